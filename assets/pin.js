// Click on the signal chart to pin (or unpin) the altitude at a step; drag to draw pins along the stroke.
// The chart's <svg> carries its geometry as data attributes, so a pointer position becomes a step and an
// altitude here, and the server gets {index: first step, points: [[step, feet], ...]}.
let stroke = null;

function pointAt(svg, event) {
  const m = svg.getScreenCTM();
  if (!m) return null;
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m.inverse());
  const d = svg.dataset;
  const x0 = +d.left, x1 = +d.width - +d.right, y0 = +d.top, y1 = +d.height - +d.bottom;
  if (p.x < x0 - 6 || p.x > x1 + 6 || p.y < y0 - 6 || p.y > y1 + 6) return null;
  const step = Math.round(((p.x - x0) / (x1 - x0)) * (+d.steps - 1));
  const feet = (1 - (p.y - y0) / (y1 - y0)) * +d.ceiling;
  return [Math.max(0, Math.min(+d.steps - 1, step)), Math.max(0, Math.round(feet))];
}

function add(point) {
  const [step, feet] = point;
  const last = stroke.last;
  if (last && Math.abs(step - last[0]) > 1) {  // a fast stroke skips steps: draw the straight line between
    const dir = Math.sign(step - last[0]);
    for (let s = last[0] + dir; s !== step; s += dir) {
      stroke.points.set(s, Math.round(last[1] + ((feet - last[1]) * (s - last[0])) / (step - last[0])));
    }
  }
  stroke.points.set(step, feet);
  stroke.last = point;
}

element.addEventListener("pointerdown", (event) => {
  const svg = event.target.closest("svg.signal");
  const point = svg && pointAt(svg, event);
  if (!point) return;
  stroke = { svg, points: new Map(), last: null };
  add(point);
  event.preventDefault();
});

element.addEventListener("pointermove", (event) => {
  const point = stroke && pointAt(stroke.svg, event);
  if (point) add(point);
});

window.addEventListener("pointerup", () => {
  if (!stroke) return;
  const points = [...stroke.points.entries()];
  stroke = null;
  trigger("click", { index: points[0][0], points });
});

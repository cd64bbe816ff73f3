// Click on the signal chart to pin (or unpin) the altitude at a step; drag to draw pins along the stroke.
// The chart's <svg> carries its geometry as data attributes, so a pointer position becomes a step and an
// altitude here. Strokes made in quick succession are sent together, once the pointer rests for SETTLE_MS,
// so fast clicks are never lost: the server gets {index: first step, strokes: [[[step, feet], ...], ...]}.
const SETTLE_MS = 250;
let stroke = null;
let pending = [];
let timer = null;

function pointAt(svg, event) {
  const m = svg.getScreenCTM();
  if (!m) return null;
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m.inverse());
  const d = svg.dataset;
  const x0 = +d.left, x1 = +d.width - +d.right, y0 = +d.top, y1 = +d.height - +d.bottom;
  // anywhere on the chart counts, the axis margins too: a point there pins the nearest edge of the plot
  if (p.x < 0 || p.x > +d.width || p.y < 0 || p.y > +d.height) return null;
  const x = Math.max(x0, Math.min(x1, p.x)), y = Math.max(y0, Math.min(y1, p.y));
  const step = Math.round(((x - x0) / (x1 - x0)) * (+d.steps - 1));
  const feet = (1 - (y - y0) / (y1 - y0)) * +d.ceiling;
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
  pending.push([...stroke.points.entries()]);
  stroke = null;
  clearTimeout(timer);
  timer = setTimeout(() => {
    const strokes = pending;
    pending = [];
    trigger("click", { index: strokes[0][0][0], strokes });
  }, SETTLE_MS);
});

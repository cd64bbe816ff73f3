"""The signal tab's drawing: a flight's altitude over its steps as an inline SVG chart (no script needed), the
one-pass density as a heatmap, and the spread of many draws as a fan chart. The profile itself
(`sigma.tasks.signal.Profile`: altitude bins, which are known, which keep a hidden truth) comes from the task.

A run's frame colours each step with the states the maze and text tabs use (assets/studio.css): known steps are
ink dots, drafts amber rings, accepted drafts green, a rejected draft a red ring, its replacement violet, and steps
settled earlier a soft green dot on the line. A hidden truth is a dashed grey line, to compare with.
"""

from __future__ import annotations

import html
import time
from dataclasses import replace
from typing import Any

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import torch

from sigma import SigmaGPT
from sigma.sampling import stream
from sigma.settings import Settings
from sigma.tasks import signal as sg
from sigma.tasks.signal import Profile
from sigma.words import plural
from views import charts, status
from views.models import SLOTS, model_of
from views.runs import Frame, bounded, check_cost
from views.view import TaskView

WIDTH, HEIGHT = 640, 260  # the SVG's own units; it scales to its box
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 10, 28  # margins for the axis labels
TOP_FT = 45_000  # the y axis always spans the ground to FL450, so two charts compare at a glance
QUANTILES = (5, 25, 50, 75, 95)  # the fan's bands: 90 % and 50 % of the draws, and the median
# what assets/pin.js needs to turn a pointer position into a step and an altitude
GEOMETRY = (
    f'data-width="{WIDTH}" data-height="{HEIGHT}" data-left="{LEFT}" data-right="{RIGHT}" data-top="{TOP}" '
    f'data-bottom="{BOTTOM}" data-steps="{sg.LENGTH}" data-ceiling="{TOP_FT}"'
)
UNPIN_FT = 1500  # a single click this close to a pinned step's altitude takes the pin away
SATURATE = 0.3  # the density heatmap's top colour
# fill and stroke of each state, for a page without the stylesheet (the CSS classes override them)
COLOURS = {
    "known": "#1f2937",
    "drafted": "#e0a100",
    "accepted": "#2e9d5b",
    "rejected": "#d93636",
    "replaced": "#8e5bd6",
    "settled": "#2e7d4f",
    "blank": "#cbd5e1",
}
LEGEND = [
    ("known", "a step you gave"),
    ("drafted", "drafted this step, not yet checked"),
    ("accepted", "draft accepted this step"),
    ("rejected", "draft rejected this step"),
    ("replaced", "resampled at the rejection (exact samplers)"),
    ("settled", "drawn in an earlier step"),
    ("truth", "the real flight, hidden from the model"),
    ("blank", "still unknown"),
]


def _x(step: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * step / (sg.LENGTH - 1)


def _y(feet: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(feet, TOP_FT) / TOP_FT)


def _axes() -> list[str]:
    out = []
    for feet in range(0, TOP_FT + 1, 10_000):
        y = _y(feet)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        name = "ground" if feet == 0 else f"FL{feet // 100}"
        out.append(f'<text class="axis" x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{name}</text>')
    for step in range(0, sg.LENGTH, 16):
        out.append(f'<text class="axis" x="{_x(step):.1f}" y="{HEIGHT - 10}" text-anchor="middle">{step}</text>')
    out.append(f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" text-anchor="end">step →</text>')
    return out


def _line(points: list[tuple[int, int]], cls: str, stroke: str, dash: str = "", lone: bool = False) -> str:
    """Polylines through (step, token) points, broken where a step is missing, so that a gap stays a gap; with
    `lone`, a point with no neighbour gets a short level stroke of its own."""
    runs: list[list[tuple[int, int]]] = []
    for i, t in sorted(points):
        if runs and runs[-1][-1][0] == i - 1:
            runs[-1].append((i, t))
        else:
            runs.append([(i, t)])
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    out = []
    for run in runs:
        if len(run) > 1:
            xy = " ".join(f"{_x(i):.1f},{_y(t * sg.BIN_FT):.1f}" for i, t in run)
        elif lone:
            (i, t), half = run[0], (_x(1) - _x(0)) / 2
            xy = f"{_x(i) - half:.1f},{_y(t * sg.BIN_FT):.1f} {_x(i) + half:.1f},{_y(t * sg.BIN_FT):.1f}"
        else:
            continue
        out.append(f'<polyline class="{cls}" points="{xy}" fill="none" stroke="{stroke}"{extra}/>')
    return "".join(out)


def _dot(i: int, token: int, state: str, title: str, r: float = 3.2, colour: str | None = None) -> str:
    """One step's dot; `colour` (the order map's) overrides the state's fill."""
    ring = state in ("drafted", "rejected")
    paint = f'fill="#fff" stroke="{COLOURS[state]}" stroke-width="1.6"' if ring else f'fill="{COLOURS[state]}"'
    if colour:
        paint += f' style="fill:{colour};opacity:1"'
    cy = HEIGHT - BOTTOM + 4 if state == "blank" else _y(token * sg.BIN_FT)
    return (
        f'<circle class="pt {state}" data-i="{i}" cx="{_x(i):.1f}" cy="{cy:.1f}" r="{r}" {paint}>'
        f"<title>{html.escape(title)}</title></circle>"
    )


def _state(profile: Profile, frame: Frame | None, i: int) -> tuple[str, int]:
    """State and shown token of step i in a frame (or of the input, frame None)."""
    if profile.known[i]:
        return "known", profile.tokens[i]
    if frame is None:
        return "blank", 0
    if i == frame.rejected:
        return ("replaced", frame.replacement) if frame.replacement is not None else ("rejected", frame.rejected_token)
    if i in frame.accepted:
        return "accepted", frame.tokens[i]
    if i in frame.drafted:
        return "drafted", frame.drafted[i]
    if frame.done[i]:
        return "settled", frame.tokens[i]
    return "blank", 0


def chart_html(profile: Profile, frame: Frame | None = None, order_map: bool = False) -> str:
    """The profile (frame None) or one frame of a run as an inline SVG chart of altitude over the steps. With
    `order_map`, each drawn step's dot takes the colour of the model step that settled it (`status.step_colour`)."""
    if len(profile.tokens) != sg.LENGTH:
        raise ValueError(f"the chart draws {sg.LENGTH}-step profiles, got {len(profile.tokens)} steps")
    parts = _axes()
    if any(profile.hidden):
        # over the hidden steps only, broken where a step is known: a known step may be a pin, not the flight
        truth = [(i, t) for i, t in enumerate(profile.tokens) if profile.hidden[i]]
        parts.append(_line(truth, "truth", "#9aa0a6", dash="4 3", lone=True))
    states = [_state(profile, frame, i) for i in range(sg.LENGTH)]
    drawn = [(i, t) for i, (s, t) in enumerate(states) if s in ("known", "accepted", "settled", "replaced")]
    parts.append(_line(drawn, "trace", "#64748b"))
    for i, (state, token) in enumerate(states):
        title = f"step {i}: " + ("unknown" if state == "blank" else f"{token * sg.BIN_FT} ft ({state})")
        if frame is not None and frame.rank[i]:
            title += f", drawn {frame.rank[i]}th"
        if profile.hidden[i]:
            title += f"; real flight {profile.tokens[i] * sg.BIN_FT} ft"
        if state == "replaced" and frame.rejected_token is not None:
            parts.append(_dot(i, frame.rejected_token, "rejected", f"step {i}: rejected draft", r=4.5))
        colour = status.step_colour(frame, i) if order_map and frame is not None and state != "known" else None
        parts.append(_dot(i, token, state, title, r=1.6 if state == "blank" else 3.2, colour=colour))
    svg = (
        f'<svg class="signal" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" {GEOMETRY} '
        f'aria-label="altitude over the flight, {sum(profile.known)} of {sg.LENGTH} steps known" '
        f'font-size="10" fill="#64748b">{"".join(parts)}</svg>'
    )
    key = status.order_key(frame) if order_map and frame is not None else ""
    return f'<div class="signal-chart">{svg}</div>{key}'


def draw(value: Profile | str, frame: Frame | None = None, order_map: bool = False) -> str:
    """The tab's drawing: a parsed profile, or text in the task's form (parsed first)."""
    return chart_html(value if isinstance(value, Profile) else sg.parse_profile(value), frame, order_map)


def edited(text: str) -> tuple[Profile, str, str, bool]:
    """A typed profile, its chart, a status line, and whether it can be run; ValueError if it does not parse."""
    profile = sg.parse_profile(text)
    problem = sg.TASK.problem(profile)
    if problem:
        return profile, chart_html(profile), status.message(problem, "bad"), False
    known, hidden = sum(profile.known), sum(profile.hidden)
    note = f"Ready: {plural(known, 'step')} known, {sg.LENGTH - known} to draw"
    note += f" ({hidden} with the real flight kept to score against)." if hidden else "."
    note += f" {sg.rounding_note(profile.rounded)}" if profile.rounded else ""
    return profile, chart_html(profile), status.message(note + " Press Forecast.", "info"), True


def can_spread(profile: Profile | None) -> dict:
    """Spread, like Forecast, needs a profile that parses with something to draw."""
    return gr.update(interactive=profile is not None and not sg.TASK.problem(profile))


def pinned(profile: Profile, points: list[tuple[int, float]]) -> Profile:
    """The profile with each (step, feet) pinned, as a click or a drag on the chart gives them. One click near
    a step's pin takes it away instead, so a wrong click is undone by clicking again."""
    tokens, known, hidden = list(profile.tokens), list(profile.known), list(profile.hidden)
    for step, feet in points:
        step, feet = min(max(int(step), 0), sg.LENGTH - 1), min(max(float(feet), 0.0), sg.CEILING_FT)
        if len(points) == 1 and known[step] and abs(tokens[step] * sg.BIN_FT - feet) <= UNPIN_FT:
            known[step] = False
            continue
        tokens[step], known[step], hidden[step] = int(sg.quantise([feet])[0]), True, False
    return Profile(tokens, known, hidden)


# ---------------------------------------------------------------- plotly figures


def _known_trace(profile: Profile) -> list[go.Scatter]:
    """The known steps as dots and the hidden truth as a dashed line, to draw over a figure. The line runs over
    the hidden steps only, broken where a step is known: a known step may be a pin of the user's, not the flight."""
    steps = [i for i, k in enumerate(profile.known) if k]
    out = [
        go.Scatter(
            x=steps,
            y=[profile.tokens[i] * sg.BIN_FT for i in steps],
            mode="markers",
            name="known",
            marker={"color": COLOURS["known"], "size": 6},
        )
    ]
    if any(profile.hidden):
        out.append(
            go.Scatter(
                x=list(range(sg.LENGTH)),
                y=[profile.tokens[i] * sg.BIN_FT if profile.hidden[i] else None for i in range(sg.LENGTH)],
                mode="lines",
                name="real flight",
                line={"color": charts.REFERENCE, "dash": "dash", "width": 1.5},
            )
        )
    return out


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        xaxis_title="step of the flight",
        yaxis_title="altitude (ft)",
        height=height,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
    )
    fig.update_xaxes(range=[-1, sg.LENGTH])
    fig.update_yaxes(range=[-sg.BIN_FT, TOP_FT])
    return fig


def density_figure(profile: Profile, probs: torch.Tensor, known: list[bool], k: int) -> go.Figure:
    """p(altitude | known) of every unknown step from one model pass: step across, altitude up, probability as
    colour (each column sums to 1; the colour saturates at SATURATE, so that a wide spread still shows next to a
    certain step). `k` is the other tabs' top-k; a column shows every bin."""
    p = probs.float().cpu().numpy()  # [T, V]
    z = np.where(np.asarray(known, dtype=bool)[:, None], np.nan, p).T  # [V, T], known columns blank
    top = min(float(np.nanmax(z)), SATURATE) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(sg.LENGTH)),
            y=[v * sg.BIN_FT for v in range(sg.VOCAB_SIZE)],
            colorscale="Oranges",
            zmin=0,
            zmax=top,
            hovertemplate="step %{x}, %{y} ft: %{z:.3f}<extra></extra>",
            colorbar={"title": {"text": "p"}},
        )
    )
    for trace in _known_trace(profile):
        fig.add_trace(trace)
    return _layout(fig, "One model pass: p(altitude) of every unknown step", height=360)


def fan_chart(profile: Profile, samples: list[list[int]]) -> go.Figure:
    """The median and the 50 % and 90 % bands of many draws (tokens [N][T]) at every step, over the known steps."""
    q05, q25, q50, q75, q95 = quantiles(samples).values()
    steps = list(range(len(q50)))
    fig = go.Figure()
    for lo, hi, name, alpha in ((q05, q95, "90 % of draws", 0.18), (q25, q75, "50 % of draws", 0.35)):
        fig.add_trace(go.Scatter(x=steps, y=lo, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=hi,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba(224, 123, 0, {alpha})",
                name=name,
                hoverinfo="skip",
            )
        )
    fig.add_trace(go.Scatter(x=steps, y=q50, mode="lines", name="median", line={"color": charts.SIGMA, "width": 2}))
    for trace in _known_trace(profile):
        fig.add_trace(trace)
    return _layout(fig, f"Spread of {len(samples)} draws")


def draws(model: SigmaGPT, value: Profile | str, settings: Settings, n: int = sg.SPREAD_N) -> tuple[Profile, list]:
    """n completions of one profile, drawn in one batch with the chosen (checked) settings, draw i from seed + i
    (sigma.draws): the parsed profile and the tokens [n][T]."""
    if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= sg.MAX_DRAWS:
        got = n if isinstance(n, int) else repr(str(n)[:40])
        raise ValueError(f"the number of draws must be a whole number from 2 to {sg.MAX_DRAWS}, got {got}")
    profile = sg.TASK.parse(value, model)
    problem = sg.TASK.problem(profile)
    if problem:
        raise ValueError(problem)
    tokens, known = sg.TASK.encode(profile)
    rows = (tokens.expand(n, -1).to(model.device), known.expand(n, -1).to(model.device))
    for event, _ in bounded(stream(model, *rows, **settings.engine_kwargs())):  # stops when nobody reads it
        last = event
    return profile, last.tokens.cpu().tolist()


def quantiles(samples: list[list[int]]) -> dict[str, list[float]]:
    """Per step, the 5, 25, 50, 75 and 95 % quantiles in feet of draws (tokens [N][T])."""
    feet = sg.dequantise(samples).astype(float)
    return {f"q{q:02d}": np.percentile(feet, q, axis=0).round(1).tolist() for q in QUANTILES}


def spread(model: SigmaGPT, value: Profile | str, settings: Settings, n: int = sg.SPREAD_N) -> go.Figure:
    """The fan chart of n draws of one profile from the model's own distribution (`sg.TASK.spread`: the exact
    sampler at temperature 1, whatever the page's sampler and temperature), in the page's order and seed, so that
    its bands are the model's: sharper draws (the fill's temperature 0.7) hold the truth in the 90 % band far
    less than 90 % of the time."""
    chosen, own = settings, sg.TASK.spread
    profile, samples = draws(model, value, replace(own, order=chosen.order, seed=chosen.seed), n)
    fig = fan_chart(profile, samples)
    how = f"{own.sampler} sampler, temperature {own.temperature:g}: the model's distribution"
    fig.update_layout(title={"text": f"Spread of {n} draws ({how})"})
    return fig


# -- the chart's pin handler --------------------------------------------------------------------


def on_pin(text: str, evt: gr.EventData) -> Any:
    """Clicks and drags on the chart (assets/pin.js sends the strokes of a burst together) as pins, written
    into the profile's text, whose change redraws the chart. The pins go onto the text the box holds now, so
    a click never undoes the one before it. Malformed event data, or no valid profile to pin on, changes
    nothing."""
    data = getattr(evt, "_data", None) or {}
    strokes = data.get("strokes") if isinstance(data, dict) else None
    ok = isinstance(strokes, list) and 0 < len(strokes) <= sg.LENGTH
    ok = ok and all(isinstance(s, list) and 0 < len(s) <= sg.LENGTH and all(map(_point, s)) for s in strokes)
    try:
        profile = sg.TASK.parse(text, None) if ok else None
    except ValueError:
        profile = None
    if profile is None:
        return gr.skip()
    for stroke in strokes:
        profile = pinned(profile, [(int(s), float(f)) for s, f in stroke])
    return sg.format_profile(profile)


def _point(p: Any) -> bool:
    return isinstance(p, list) and len(p) == 2 and all(_finite(v) for v in p)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e7


# -- the tab's extra endpoint: /spread_signal ----------------------------------------------------


def spread_signal(
    signal: str,
    n: int = 32,
    sampler: str = sg.TASK.spread.sampler,
    order: str = sg.TASK.spread.order,
    num_orders: int = sg.TASK.spread.num_orders,
    temperature: float = sg.TASK.spread.temperature,
    seed: int = 0,
) -> dict:
    """Draw n (2-64) completions of a flight profile with the same pins in one batch: per step, the 5, 25, 50, 75
    and 95 % quantiles of the draws in feet (the fan chart's bands), which steps were known, and the seconds of
    model work. signal: the profile's text form (altitudes in feet or FL350, ? for a step to draw). By default
    the exact sampler at temperature 1, as the page's fan chart: the model's own distribution."""
    settings = Settings(sampler, order, num_orders, temperature, seed).checked()  # where they enter
    start = time.perf_counter()
    model = model_of(SLOTS["signal"])
    if isinstance(n, int) and not isinstance(n, bool) and 2 <= n <= sg.MAX_DRAWS:  # else draws() says
        _, known = sg.TASK.encode(sg.TASK.parse(signal, model))
        check_cost(int((~known).sum()), settings, rows=n)  # the one bound on work, and so on time
    profile, samples = draws(model, signal, settings, n)
    return {
        "draws": n,
        "known": list(profile.known),
        "quantiles_ft": quantiles(samples),
        "model_seconds": round(time.perf_counter() - start, 3),
    }


VIEW = TaskView(
    sg.TASK,
    draw,
    density_figure,
    run_label="Forecast",
    legend=tuple(LEGEND),
    example_labels=sg.EXAMPLE_LABELS,
    endpoints=(spread_signal,),
)

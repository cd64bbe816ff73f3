"""Plotly figures of a run and of one-pass densities. Colours follow the legend (assets/studio.css)."""

from __future__ import annotations

import html
import textwrap

import plotly.graph_objects as go

from views.runs import Frame

ACCEPTED, REPLACED, REFERENCE, SIGMA = "#2e9d5b", "#8e5bd6", "#9aa0a6", "#e07b00"
WALL, START, GOAL = "#374151", "#1d6fd1", "#b45309"  # the board's own (assets/studio.css)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 280) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.3},
        template="plotly_white",
    )
    return fig


def waiting(what: str) -> go.Figure:
    """An empty chart that says what it will show, for before any run."""
    fig = go.Figure()
    fig.add_annotation(
        text=what, showarrow=False, font={"size": 13, "color": "#64748b"}, x=0.5, y=0.5, xref="paper", yref="paper"
    )  # centred on the plot whatever its axes, one short line each (STEPS_WAITING, CALLS_WAITING)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig.update_layout(height=200, template="plotly_white", margin={"l": 10, "r": 10, "t": 10, "b": 10})


def wrapped(text: str, width: int = 64) -> str:
    """Plain text as an annotation's lines (plotly reads a little HTML: escaped, broken with <br>)."""
    return "<br>".join(textwrap.wrap(html.escape(text), width))


STEPS_WAITING = "Tokens settled at each model step<br>(after a run)"
CALLS_WAITING = "Tokens done against model calls,<br>beside one-at-a-time decoding<br>(after a run)"


def accepted_per_step(run: list[Frame]) -> go.Figure:
    """Tokens settled by each model step: accepted drafts, plus the resampled token of a rejection."""
    steps = [f.step for f in run[1:]]
    fig = go.Figure(
        [
            go.Bar(x=steps, y=[len(f.accepted) for f in run[1:]], name="accepted drafts", marker_color=ACCEPTED),
            go.Bar(
                x=steps,
                y=[int(f.replacement is not None) for f in run[1:]],
                name="resampled at a rejection",
                marker_color=REPLACED,
            ),
        ]
    )
    fig.update_layout(barmode="stack")
    fig = _layout(fig, "Tokens settled per step", "step", "tokens")
    return fig.update_layout(legend={"orientation": "h", "y": -0.45}, margin={"b": 70})


def done_vs_calls(run: list[Frame]) -> go.Figure:
    """Tokens done against model calls, with the one-token-per-call line that sequential decoding follows."""
    n = run[0].to_fill if run else 0
    fig = go.Figure(
        [
            go.Scatter(
                x=[0, n], y=[0, n], mode="lines", name="one token at a time", line={"color": REFERENCE, "dash": "dash"}
            ),
            go.Scatter(
                x=[f.model_calls for f in run],
                y=[f.tokens_done for f in run],
                mode="lines+markers",
                name="this run",
                line={"color": SIGMA},
            ),
        ]
    )
    return _layout(fig, "Tokens done vs model calls", "model calls", "tokens done")


def top_k_heatmap(labels: list[str], top: list[list[tuple[str, float]]]) -> go.Figure:
    """Top-k probabilities of every unknown position (columns) from one model pass; cells name the token."""
    k = max((len(t) for t in top), default=0)
    z = [[t[r][1] if r < len(t) else None for t in top] for r in range(k)]
    text = [[t[r][0] if r < len(t) else "" for t in top] for r in range(k)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=[f"#{r + 1}" for r in range(k)],
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{x}<br>%{text}: %{z:.3f}<extra></extra>",
            colorscale="Oranges",
            zmin=0,
            zmax=1,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(type="category")
    return _layout(fig, "One model pass: top-k of every unknown position", "position", "rank")


def grid_heatmap(
    probs: list[list[float | None]],
    start: tuple[int, int],
    goal: tuple[int, int],
    walls: list[list[bool]] | None = None,
) -> go.Figure:
    """P(on the path) of every undecided maze cell from one pass, on the board's own rows and columns
    (1-based, as the board's tooltips count); walls drawn as on the board, S and G as white letters on the
    board's own colours, other decided cells left blank."""
    h, w = len(probs), len(probs[0]) if probs else 0
    axes = {"x": list(range(1, w + 1)), "y": list(range(1, h + 1))}
    layers = [
        go.Heatmap(
            z=probs,
            **axes,
            colorscale="Oranges",
            zmin=0,
            zmax=1,
            hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>",
        )
    ]
    if walls is not None:
        solid = [[1 if wall else None for wall in row] for row in walls]
        layers.append(go.Heatmap(z=solid, **axes, colorscale=[[0, WALL], [1, WALL]], showscale=False, hoverinfo="skip"))
    fig = go.Figure(layers)
    for (r, c), label, colour in ((start, "S", START), (goal, "G", GOAL)):
        fig.add_shape(type="rect", x0=c + 0.5, x1=c + 1.5, y0=r + 0.5, y1=r + 1.5, fillcolor=colour, line_width=0)
        fig.add_annotation(
            x=c + 1, y=r + 1, text=f"<b>{label}</b>", showarrow=False, font={"size": 14, "color": "white"}
        )
    fig.update_xaxes(range=[0.5, w + 0.5], dtick=1, constrain="domain")
    fig.update_yaxes(range=[h + 0.5, 0.5], dtick=1, scaleanchor="x")
    return _layout(fig, "One model pass: P(cell on the path)", "column", "row", height=360)

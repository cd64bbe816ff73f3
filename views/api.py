"""The named API endpoints as plain functions: JSON-ready dicts in, streamed dicts out.

app.py registers them with `gr.api` and turns ValueError / TimeoutError into `gr.Error`, so a client
gets the same plain messages the page shows. Each streamed dict is one model step; the last has
`finished: true` and carries the result and the run's figures (plotly JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sigma import maze as mz
from views import charts, maze_view, text_view
from views.models import MAZE, TEXT, ModelSlot
from views.runs import Frame, Settings


def model_of(slot: ModelSlot):
    model = slot.get()
    if model is None:
        raise ValueError(slot.missing_message())
    return model


def _step(frame: Frame, where) -> dict:
    """One frame as JSON: positions through `where` (maze: [row, col]; text: token index)."""
    return {
        "step": frame.step,
        "model_calls": frame.model_calls,
        "tokens_done": frame.tokens_done,
        "to_fill": frame.to_fill,
        "drafted": [[where(p), t] for p, t in frame.drafted.items()],
        "accepted": [where(p) for p in frame.accepted],
        "rejected": None if frame.rejected is None else where(frame.rejected),
        "rejected_token": frame.rejected_token,
        "replacement": frame.replacement,
        "model_seconds": round(frame.seconds, 4),
        "finished": frame.finished,
    }


def figures(run: list[Frame]) -> dict:
    return {
        "accepted_per_step": json.loads(charts.accepted_per_step(run).to_json()),
        "done_vs_calls": json.loads(charts.done_vs_calls(run).to_json()),
    }


def solve_maze(
    maze: str,
    sampler: str = "exact-confident",
    order: str = "random",
    num_orders: int = 5,
    temperature: float = 0.0,
    seed: int = 0,
) -> Iterator[dict]:
    """Solve an ASCII maze (rows of # . S G, pins + and x) and stream one dict per model step; the last
    holds the ASCII solution ('*' marks the path), the verdict and the figures. Tokens: 4 off, 5 on."""
    model = model_of(MAZE)
    parsed, run_frames = maze_view.run(model, maze, Settings(sampler, order, num_orders, temperature, seed))
    h, w = parsed.shape
    where = lambda p: [(p - h * w) // w, (p - h * w) % w]  # noqa: E731
    run = []
    for frame in run_frames:
        run.append(frame)
        out = _step(frame, where) | {"ascii": maze_view.ascii_of(parsed, frame)}
        if frame.finished:
            message, _ = maze_view.verdict(parsed, frame)
            v = mz.check(parsed, maze_view.path_of(parsed, frame))
            out |= {"solution": out["ascii"], "valid": v.valid, "shortest": v.optimal, "violates_pins": v.violates_pins}
            out |= {"message": message, "figures": figures(run)}
        yield out


def fill_text(
    text: str,
    sampler: str = "exact-confident",
    order: str = "random",
    num_orders: int = 5,
    temperature: float = 0.8,
    seed: int = 0,
) -> Iterator[dict]:
    """Fill the blanks of a text ("[___]": three blank tokens; "{words}": blank those words' tokens) and
    stream one dict per model step (tokens as strings); the last holds the text and the figures."""
    model = model_of(TEXT)
    passage = text_view.parse(text, model.config.block_size)
    run = []
    for frame in text_view.run(model, passage, Settings(sampler, order, num_orders, temperature, seed)):
        run.append(frame)
        out = _step(frame, int)
        out["drafted"] = [[p, text_view.piece(t)] for p, t in frame.drafted.items()]
        for key in ("rejected_token", "replacement"):
            out[key] = None if out[key] is None else text_view.piece(out[key])
        if frame.finished:
            out |= {"text": text_view.final_text(frame), "marked": text_view.marked_text(frame)}
            out["figures"] = figures(run)
        yield out


def density(task: str, sequence: str, k: int = 5) -> dict:
    """One model pass over a partial sequence: for every unknown position, the top-k tokens and their
    probabilities. task "maze": an ASCII maze (positions are [row, col]; tokens "off"/"on");
    task "text": text in the blank syntax (positions are token indices)."""
    if task not in ("maze", "text"):
        raise ValueError(f"unknown task {task!r}: use 'maze' or 'text'")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 50:
        raise ValueError(f"k must be an integer between 1 and 50, got {k!r}")
    if task == "maze":
        model = model_of(MAZE)
        parsed = mz.parse(sequence, mz.grid_of(model))
        probs = maze_view.density_grid(model, parsed, None)
        cells = [(r, c, p) for r, row in enumerate(probs) for c, p in enumerate(row) if p is not None]
        top = [sorted([("on", p), ("off", round(1 - p, 4))], key=lambda t: -t[1])[:k] for _, _, p in cells]
        return {"positions": [{"position": [r, c], "top": t} for (r, c, _), t in zip(cells, top, strict=True)]}
    model = model_of(TEXT)
    labels, top = text_view.density(model, text_view.parse(sequence, model.config.block_size), None, k)
    return {"positions": [{"position": int(p), "top": t} for p, t in zip(labels, top, strict=True)]}

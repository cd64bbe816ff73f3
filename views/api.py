"""The named API endpoints as plain functions: JSON-ready values in, streamed dicts out.

app.py registers them with `gr.api` and turns ValueError / TimeoutError into `gr.Error`, so a client
gets the same plain messages the page shows. `/<verb>_<task>` (`/solve_maze`, `/fill_text`) streams one
dict per model step; the last has `finished: true` and carries the task's verdict and the run's figures
(plotly JSON). Any task gets its endpoint from `endpoint(task)`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator

from sigma.settings import BOUNDS, CHOSEN, SAMPLERS, Settings
from sigma.task import Task, top_choices
from sigma.tasks import get
from views import charts
from views.models import SLOTS, model_of
from views.race import race
from views.runs import Frame, one_pass, start


def step_json(task: Task, value, frame: Frame) -> dict:
    """One frame as JSON: positions and tokens as the task names them."""
    where, token = (lambda p: task.position(value, p)), task.token_json
    return {
        "step": frame.step,
        "model_calls": frame.model_calls,
        "tokens_done": frame.tokens_done,
        "to_fill": frame.to_fill,
        "drafted": [[where(p), token(t)] for p, t in frame.drafted.items()],
        "accepted": [where(p) for p in frame.accepted],
        "rejected": None if frame.rejected is None else where(frame.rejected),
        "rejected_token": None if frame.rejected_token is None else token(frame.rejected_token),
        "replacement": None if frame.replacement is None else token(frame.replacement),
        "model_seconds": round(frame.seconds, 4),
        "finished": frame.finished,
        task.shown_as: task.show(value, frame.tokens, frame.done),
    }


def figures(run: list[Frame]) -> dict:
    return {
        "accepted_per_step": json.loads(charts.accepted_per_step(run).to_json()),
        "done_vs_calls": json.loads(charts.done_vs_calls(run).to_json()),
    }


def run(task: Task, source, settings: Settings) -> Iterator[dict]:
    """Stream one run of `task` on `source` as JSON dicts, the verdict and the figures on the last."""
    value, run_frames = start(task, model_of(SLOTS[task.name]), source, settings)
    frames = []
    for frame in run_frames:
        frames.append(frame)
        out = step_json(task, value, frame)
        yield out | finish_json(task, value, frames) if frame.finished else out


def finish_json(task: Task, value, frames: list[Frame]) -> dict:
    """What the last step of a run adds: the verdict, the figures, and every try where there were several."""
    last = frames[-1]
    out = task.verdict(value, last.tokens).as_json() | {"figures": figures(frames)}
    if last.tries is not None:
        t = last.tries
        out["tries"] = {"n": len(t.valid), "valid": t.valid, "chosen": t.chosen, "nats": t.log_likelihood}
        if t.first_batch:
            out["tries"] |= {"first_batch": t.first_batch, "retried_with": t.retried_with}
    return out


def endpoint(task: Task) -> Callable[..., Iterator[dict]]:
    """`/<verb>_<task>(<task>, sampler, order, num_orders, temperature, seed[, tries])`: its first argument is
    named after the task (`maze`, `text`), its defaults are the task's. A task that can check an answer (maze,
    text: its `valid_means` says what it checks) takes tries: > 1 draws that many candidates in one batch and
    streams the kept one. A task that cannot (signal) has no tries argument."""

    def call(source: str, *args, **kwargs) -> Iterator[dict]:
        bound = signature.bind(source, *args, **kwargs)
        bound.apply_defaults()
        chosen = [bound.arguments.get(name, getattr(task.defaults, name)) for name in CHOSEN]
        yield from run(task, source, task.defaults.chosen(*chosen))

    d = task.defaults
    signature = inspect.Signature(
        [
            inspect.Parameter(task.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
            *(
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value, annotation=kind)
                for name, value, kind in (
                    ("sampler", d.sampler, str),
                    ("order", d.order, str),
                    ("num_orders", d.num_orders, int),
                    ("temperature", d.temperature, float),
                    ("seed", d.seed, int),
                    *((("tries", d.tries, int),) if task.valid_means else ()),
                )
            ),
        ],
        return_annotation=Iterator[dict],
    )
    call.__signature__ = signature
    call.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()} | {"return": Iterator[dict]}
    call.__name__ = call.__qualname__ = f"{task.verb}_{task.name}"
    tries = (
        f"; tries: {BOUNDS['tries'][0]}-{BOUNDS['tries'][1]} (the model's likeliest valid candidate is kept: "
        "selection, not a sample of the model)"
    )
    call.__doc__ = (
        f"{task.verb.capitalize()} a {task.name} and stream one dict per model step; the last holds the verdict "
        f"and the figures. num_orders: {BOUNDS['num_orders'][0]}-{BOUNDS['num_orders'][1]}; temperature: 0 "
        f"(greedy) to {BOUNDS['temperature'][1]}{tries if task.valid_means else ''}."
    )
    return call


def compare(
    task: str,
    sequence: str,
    samplers: list[str] | None = None,
    order: str = "random",
    temperature: float | None = None,
    seed: int = 0,
    num_orders: int = 5,
    tries: int = 1,
) -> dict:
    """Race samplers on one input, seed, order and temperature (default: the task's): for each, steps,
    model calls, tokens, tokens per call, ms of model work, tokens/s, the log-likelihood of the fill (the
    model's l2r chain rule) and the verdict. samplers: any of sequential, burst, exact, exact-confident.
    tries (1-16; maze and text): candidates per sampler in one batch, the likeliest valid kept (`tries_valid` says
    how many were valid); a race never retries (`Settings.retry`), so that every lane is its own sampler."""
    the_task = get(task)
    temperature = the_task.defaults.temperature if temperature is None else temperature
    settings = the_task.defaults.chosen(the_task.defaults.sampler, order, num_orders, temperature, seed, tries)
    samplers = list(SAMPLERS) if samplers is None else samplers  # an empty list is refused by race
    _, lanes = race(the_task, model_of(SLOTS[the_task.name]), sequence, settings, samplers)
    return {"task": the_task.name, "lanes": [lane.figures() | lane.verdict.as_json() for lane in lanes]}


def density(task: str, sequence: str, k: int = 5) -> dict:
    """One model pass over a partial sequence: for every unknown position, the top-k tokens and their
    probabilities. task "maze": an ASCII maze (positions are [row, col]; tokens "off"/"on");
    task "text": text in the blank syntax (positions are token indices)."""
    the_task = get(task)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 50:
        raise ValueError(f"k must be an integer between 1 and 50, got {str(k)[:40]!r}")
    model = model_of(SLOTS[the_task.name])
    value = the_task.parse(sequence, model)
    tokens, known = (t.tolist() for t in the_task.encode(value))
    top = top_choices(the_task, one_pass(model, tokens, known, the_task.forbid(value)), known, k)
    return {"positions": [{"position": the_task.position(value, i), "top": t} for i, t in top]}

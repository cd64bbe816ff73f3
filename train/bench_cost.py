"""A model call's fixed cost in slots, the figure the draft window uses; and what a batch of tries costs.

A sequential sampling step is one call with one slot, so its time is the fixed cost (the pass's
overheads and the sampler's own work) plus one slot; the price of a slot is the slope of a query's
time in its number of slots. Their ratio is what the draft window weighs drafts against: `--write` records it in
each checkpoint's config.json (`call_cost_slots`); a checkpoint without one uses `sigma.window.CALL_COST_SLOTS`.

Tries: B tries of one input in one batch, checked and ranked (`sigma.tries.sample_tries`, a tab's verified tries at
its default settings), against one try, on the same seeded mazes (`tries`) and held-out passages (`tries_text`) in
one run: ms per batch, per row, and the ratio.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from pathlib import Path

import torch

from sigma import SigmaGPT
from sigma.decoder import Decoder
from sigma.sampling import sample
from sigma.tries import sample_tries
from sigma.window import CALL_COST_SLOTS
from train.loop import apply_threads


def slot_seconds(model: SigmaGPT, slots: int = 64, repeats: int = 15) -> float:
    """Seconds per extra slot: a query of `slots` positions against one of a single position."""
    T = model.config.block_size
    tokens = torch.zeros(1, T, dtype=torch.long)
    known = torch.zeros(1, T, dtype=torch.bool)
    known[0, : T // 2] = True
    dec = Decoder(model, tokens, known, torch.arange(T)[None])
    rows = torch.tensor([0])
    pos, valid = dec.remaining(rows)
    slots = min(slots, pos.shape[1])
    times = {}
    with torch.inference_mode():
        dec.query(rows, pos[:, :1], valid[:, :1])  # prefill
        for s in (1, slots):
            runs = []
            for _ in range(repeats):
                start = time.perf_counter()
                dec.query(rows, pos[:, :s], valid[:, :s])
                runs.append(time.perf_counter() - start)
            times[s] = statistics.median(runs)
    return (times[slots] - times[1]) / (slots - 1)


def call_seconds(model: SigmaGPT, tokens: int = 64) -> float:
    """Seconds per sequential sampling step (one call, one slot, and the sampler's own work)."""
    n = min(tokens, model.config.block_size)
    x = torch.zeros(1, n, dtype=torch.long)
    out = sample(model, x, torch.zeros_like(x, dtype=torch.bool), sampler="sequential", seed=0)
    return out.seconds / n


def maze_sources(model: SigmaGPT, n: int, seed: int = 0) -> list[str]:
    """n seeded mazes, the families in turn, as the tab's ASCII."""
    from sigma.tasks import maze as mz

    h, w = mz.grid_of(model)
    rng = random.Random(seed)
    families = list(mz.FAMILIES)
    return [mz.render(mz.make(h, w, rng, families[i % len(families)])) for i in range(n)]


def text_sources(model: SigmaGPT, n: int) -> list[str]:
    """n held-out passages of the text bench, each with a phrase blanked inside a line."""
    from train.text_measures import bench_phrases

    return [phrase.passage for phrase in bench_phrases(model, n)]


def tries_figures(model: SigmaGPT, task, sources: list[str], sizes=(1, 4, 8, 16), repeats: int = 3) -> dict:
    """Median ms per input of B tries in one batch at the task's defaults, as its tab runs them (sampled,
    checked, the likeliest valid one kept), each B timed `repeats` times interleaved with the others so that
    load drifts hit all alike."""
    values = [task.resolve(task.parse(source, model), model, task.defaults) for source in sources]
    engine = task.defaults.engine_kwargs()

    def batch_ms(B: int, rep: int) -> float:
        start = time.perf_counter()
        for i, value in enumerate(values):
            tokens, known = task.encode(value)
            forbid, accept = task.forbid(value), functools.partial(task.accept, value)
            sample_tries(model, tokens, known, accept, B, **engine | {"seed": 1000 * rep + 16 * i, "forbid": forbid})
        return 1000 * (time.perf_counter() - start) / len(values)

    batch_ms(sizes[0], 0)  # warm up
    runs = {B: [] for B in sizes}
    for rep in range(repeats):
        for B in sizes:
            runs[B].append(batch_ms(B, rep))
    ms = {B: statistics.median(r) for B, r in runs.items()}
    one = ms[sizes[0]]
    return {
        str(B): {"ms_per_batch": round(t, 1), "ms_per_row": round(t / B, 2), "vs_one_try": round(t / one, 2)}
        for B, t in ms.items()
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoints", nargs="+", default=["checkpoints/text", "checkpoints/maze"])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    p.add_argument("--tries", default="checkpoints/maze", help="maze checkpoint for the tries figures ('' skips)")
    p.add_argument("--tries-text", default="checkpoints/text", help="text checkpoint for the tries figures ('' skips)")
    p.add_argument("--tries-inputs", type=int, default=16, help="seeded mazes (and held-out passages) per batch size")
    p.add_argument(
        "--write",
        action="store_true",
        help="write each checkpoint's measured call cost into its config.json (call_cost_slots), for the window",
    )


def write_call_cost(path: str, slots: float) -> None:
    """Record a checkpoint's measured call cost in its config.json (SigmaConfig.call_cost_slots)."""
    config = Path(path) / "config.json"
    data = json.loads(config.read_text())
    data["call_cost_slots"] = slots
    config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def run(args: argparse.Namespace) -> dict:
    apply_threads(args)  # the cost depends on the threads: set them before the first call is timed
    result = {"threads": torch.get_num_threads(), "default": CALL_COST_SLOTS, "models": {}}
    for path in args.checkpoints:
        model = SigmaGPT.from_pretrained(path).eval()
        call_seconds(model, 8)  # warm up
        slot, call = slot_seconds(model), statistics.median(call_seconds(model) for _ in range(3))
        result["models"][path] = {
            "ms_per_slot": round(1000 * slot, 4),
            "ms_per_call": round(1000 * call, 4),
            "call_cost_slots": round(call / slot - 1, 1),
            "in_use": model.config.call_cost_slots or CALL_COST_SLOTS["cpu"],
        }
        print(path, result["models"][path], flush=True)
        if args.write:
            write_call_cost(path, result["models"][path]["call_cost_slots"])
    from sigma.tasks import maze as mz
    from sigma.tasks import text as tx

    for key, path, task, sources in (
        ("tries", args.tries, mz.TASK, maze_sources),
        ("tries_text", args.tries_text, tx.TASK, text_sources),
    ):
        if path:
            model = SigmaGPT.from_pretrained(path).eval()
            result[key] = tries_figures(model, task, sources(model, args.tries_inputs))
            print(key, result[key], flush=True)
    print(json.dumps(result))
    return result

"""A model call's fixed cost in slots, the figure the draft window uses; and what a batch of tries costs.

A sequential sampling step is one call with one slot, so its time is the fixed cost (the pass's
overheads and the sampler's own work) plus one slot; the price of a slot is the slope of a query's
time in its number of slots. Their ratio is what the draft window weighs drafts against: `--write` records it in
each checkpoint's config.json (`call_cost_slots`); a checkpoint without one uses `sigma.window.CALL_COST_SLOTS`.

Tries: B tries of one maze in one batch, checked and ranked (`sigma.tries.sample_tries`, the maze tab's verified
tries at its default settings), against one try, on the same seeded mazes in one run: ms per batch, per row, and
the ratio.
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


def tries_figures(model: SigmaGPT, n_mazes: int = 16, sizes=(1, 4, 8, 16), repeats: int = 3, seed: int = 0) -> dict:
    """Median ms per maze of B tries in one batch (the tab's defaults) over n_mazes seeded mazes of every
    family, each B timed `repeats` times interleaved with the others so that load drifts hit all alike."""
    from sigma.tasks import maze as mz

    d = mz.TASK.defaults
    h, w = model.config.grid[1:] if model.config.grid else (9, 9)
    rng = random.Random(seed)
    families = list(mz.FAMILIES)
    mazes = [mz.make(h, w, rng, families[i % len(families)]) for i in range(n_mazes)]
    settings = dict(sampler=d.sampler, temperature=d.temperature, window=d.window, order=d.order)

    def batch_ms(B: int, rep: int) -> float:
        start = time.perf_counter()
        for i, maze in enumerate(mazes):  # as the tab runs them: sampled, checked, the likeliest valid one kept
            tokens, known = mz.encode(maze)
            accept = functools.partial(mz.TASK.accept, maze)
            sample_tries(
                model, tokens, known, accept, B, seed=1000 * rep + 16 * i, forbid=mz.TASK.forbid(maze), **settings
            )
        return 1000 * (time.perf_counter() - start) / len(mazes)

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
    p.add_argument("--tries-mazes", type=int, default=16, help="seeded mazes per batch size")
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
    if args.tries:
        result["tries"] = tries_figures(SigmaGPT.from_pretrained(args.tries).eval(), args.tries_mazes)
        print("tries", result["tries"], flush=True)
    print(json.dumps(result))
    return result

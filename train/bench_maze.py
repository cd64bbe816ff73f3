"""`python -m train.bench maze`: validity, optimality, model calls and wall time of every sampler on a
fixed seeded test set, one maze at a time (what the app does), against a left-to-right baseline."""

from __future__ import annotations

import json
import random
import statistics
import time

import torch

from sigma import SigmaGPT
from sigma import maze as mz
from sigma.sampling import METHODS, sample
from train.maze import evaluate_mazes, test_set

TEST_SEED = 1234


def solve_one(model: SigmaGPT, maze: mz.Maze, method: str, order: str, temperature: float, seed: int):
    tokens, known = mz.encode(maze)
    start = time.perf_counter()
    out = sample(
        model,
        tokens[None],
        known[None],
        method=method,
        order=order,
        temperature=temperature,
        seed=seed,
        keep_events=True,
    )
    seconds = time.perf_counter() - start
    return mz.check(maze, mz.path_cells(maze, out.tokens[0])), out, seconds


def acceptance_by_value(events) -> dict[str, list[int]]:
    """Drafts judged (accepted, or the first rejected) and accepted, split by drafted value ON / OFF."""
    tally = {"on": [0, 0], "off": [0, 0]}
    for event in events:
        for rs in event.rows:
            judged = len(rs.accepted) + (rs.rejected is not None)
            for i, tok in enumerate(rs.draft_tokens[:judged]):
                key = "on" if tok == mz.ON else "off"
                tally[key][0] += 1
                tally[key][1] += i < len(rs.accepted)
    return tally


def run_sampler(model, mazes, method, order, temperature) -> dict:
    verdicts, calls, seconds, tally = [], [], [], {"on": [0, 0], "off": [0, 0]}
    for i, maze in enumerate(mazes):
        v, out, s = solve_one(model, maze, method, order, temperature, seed=i)
        verdicts.append(v)
        calls.append(int(out.model_calls[0]))
        seconds.append(s)
        for key, (judged, accepted) in acceptance_by_value(out.events).items():
            tally[key][0] += judged
            tally[key][1] += accepted
    n = len(mazes)
    return {
        "valid": round(sum(v.valid for v in verdicts) / n, 4),
        "optimal": round(sum(v.optimal for v in verdicts) / n, 4),
        "model_calls": round(statistics.mean(calls), 2),
        "model_calls_p50": statistics.median(calls),
        "seconds": round(statistics.mean(seconds), 5),
        "accept_rate_on": round(tally["on"][1] / max(1, tally["on"][0]), 4),
        "accept_rate_off": round(tally["off"][1] / max(1, tally["off"][0]), 4),
    }


def pinned_set(h: int, w: int, k: int, seed: int = TEST_SEED + 1) -> list[mz.Maze]:
    """k test mazes, each with one waypoint pin that some simple path passes through."""
    rng = random.Random(seed)
    mazes = []
    while len(mazes) < k:
        maze = mz.generate(h, w, rng)
        _, via = mz.training_path(maze, rng, waypoint_share=1.0)
        if via is not None:
            maze.pins_on = {via}
            mazes.append(maze)
    return mazes


def main(checkpoint: str, baseline: str, n: int, temperature: float, as_json: bool) -> dict:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = SigmaGPT.from_pretrained(checkpoint).eval()
    h, w = mz.grid_of(model)
    mazes = test_set(h, w, n, seed=TEST_SEED)
    result = {
        "grid": [h, w],
        "path_cells": h * w,
        "n": n,
        "temperature": temperature,
        "order": "random",
        "samplers": {},
    }
    for method in METHODS:
        result["samplers"][method] = run_sampler(model, mazes, method, "random", temperature)
        if not as_json:
            print(method, result["samplers"][method], flush=True)
    seq = result["samplers"]["sequential"]["seconds"]
    result["speedup"] = {m: round(seq / f["seconds"], 2) for m, f in result["samplers"].items()}
    for method in ("sequential", "exact"):  # batched throughput, all mazes in one batch
        start = time.perf_counter()
        evaluate_mazes(model, mazes, method=method, order="random", temperature=temperature)
        result.setdefault("batched_mazes_per_second", {})[method] = round(n / (time.perf_counter() - start), 1)
    base = SigmaGPT.from_pretrained(baseline).eval()
    result["baseline_l2r"] = {
        k: v
        for k, v in run_sampler(base, mazes, "sequential", "l2r", temperature).items()
        if k in ("valid", "optimal", "seconds")
    }
    pinned = pinned_set(h, w, min(n, 100))
    for method, key in (("exact", "pinned"), ("exact-confident", "pinned_exact_confident")):
        verdicts = [solve_one(model, m, method, "random", temperature, seed=i)[0] for i, m in enumerate(pinned)]
        result[key] = {
            "valid": round(sum(v.valid for v in verdicts) / len(pinned), 4),
            "n": len(pinned),
            "optimal": round(sum(v.optimal for v in verdicts) / len(pinned), 4),
        }
    print(json.dumps(result))
    return result

"""Valid/optimal rates, model calls and wall time of every sampler on mazes, against a left-to-right baseline.

Mazes are solved one at a time (what the app does): the original seeded test set of random walls, mazes with
a waypoint pin, perfect mazes laid out as maze libraries print them (`ringed`), and with --per-family seeded mazes
of every family. Per family, `verified` is the app's default
run (the maze task's default tries in one batch, the likeliest valid one kept), beside every single-try sampler.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from dataclasses import replace

from sigma import SigmaGPT
from sigma.sampling import sample
from sigma.settings import SAMPLERS, Settings
from sigma.tasks import maze as mz
from sigma.tasks.maze import families as mf
from sigma.tries import sample_tries
from train.loop import apply_threads
from train.maze import evaluate_mazes, family_sets, rates, test_set
from train.variants import variants

TEST_SEED = 1234


def solve_one(model: SigmaGPT, maze: mz.Maze, sampler: str, order: str, temperature: float, seed: int, window="auto"):
    tokens, known = mz.encode(maze)
    start = time.perf_counter()
    settings = {"sampler": sampler, "order": order, "temperature": temperature, "window": window}
    forbid = mz.TASK.forbid(maze)  # path cells on or off, as the app samples them
    out = sample(model, tokens[None], known[None], **settings, seed=seed, keep_events=True, forbid=forbid)
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


def run_sampler(model, mazes, sampler, order, temperature, window="auto") -> dict:
    verdicts, calls, slots, seconds, tally = [], [], [], [], {"on": [0, 0], "off": [0, 0]}
    for i, maze in enumerate(mazes):
        v, out, s = solve_one(model, maze, sampler, order, temperature, seed=i, window=window)
        verdicts.append(v)
        calls.append(int(out.model_calls[0]))
        slots.append(int(out.tokens_processed[0]))
        seconds.append(s)
        for key, (judged, accepted) in acceptance_by_value(out.events).items():
            tally[key][0] += judged
            tally[key][1] += accepted
    return {
        **rates(verdicts),
        "model_calls": round(statistics.mean(calls), 2),
        "model_calls_p50": statistics.median(calls),
        "slots": round(statistics.mean(slots), 1),
        "seconds": round(statistics.mean(seconds), 5),
        "ms_p50": round(1000 * statistics.median(seconds), 2),
        "accept_rate_on": round(tally["on"][1] / max(1, tally["on"][0]), 4),
        "accept_rate_off": round(tally["off"][1] / max(1, tally["off"][0]), 4),
    }


def run_verified(model: SigmaGPT, mazes: list[mz.Maze], settings: Settings) -> dict:
    """The app's default run on every maze: `settings.tries` candidates in one batch, the likeliest valid kept
    (`sigma.tries`); valid and optimal rates of the kept answers, model calls per batch, ms per maze."""
    verdicts, calls, seconds, found, retried = [], [], [], [], []
    engine = settings.engine_kwargs()
    for i, maze in enumerate(mazes):
        tokens, known = mz.encode(maze)
        start = time.perf_counter()
        accept = functools.partial(mz.TASK.accept, maze)
        engine |= {"seed": i, "forbid": mz.TASK.forbid(maze)}
        out, tries = sample_tries(model, tokens, known, accept, settings.tries, retry=settings.retry, **engine)
        seconds.append(time.perf_counter() - start)
        verdicts.append(mz.check(maze, mz.path_cells(maze, tries.tokens[tries.chosen])))
        calls.append(int(out.model_calls.max()))
        found.append(tries.n_valid / len(tries.valid))
        retried.append(tries.first_batch > 0)
    return {
        **rates(verdicts),
        "tries": settings.tries,
        "temperature": settings.temperature,
        "valid_share_of_tries": round(statistics.mean(found), 4),
        "retried": round(statistics.mean(retried), 4),
        "model_calls": round(statistics.mean(calls), 2),
        "ms_p50": round(1000 * statistics.median(seconds), 2),
        "ms_p95": round(1000 * sorted(seconds)[int(0.95 * (len(seconds) - 1))], 2),
    }


def pinned_set(h: int, w: int, k: int, seed: int = TEST_SEED + 1, family: str | None = None) -> list[mz.Maze]:
    """k test mazes of `family` (None: the original random walls), each with one waypoint pin that some
    valid path passes through."""
    rng = random.Random(seed)
    mazes = []
    while len(mazes) < k:
        maze = mz.generate(h, w, rng) if family is None else mf.make(h, w, rng, family)
        _, via = mz.training_path(maze, rng, waypoint_share=1.0)
        if via is not None:
            maze.pins_on = {via}
            mazes.append(maze)
    return mazes


def pinned_rates(model: SigmaGPT, mazes: list[mz.Maze], temperature: float) -> dict:
    """Valid and optimal rates on pinned mazes with the two exact samplers, and the app's verified default."""
    result = {"n": len(mazes)}
    for sampler in ("exact", "exact-confident"):
        verdicts = [solve_one(model, m, sampler, "random", temperature, seed=i)[0] for i, m in enumerate(mazes)]
        result[sampler] = rates(verdicts)
    result["verified"] = rates_of(run_verified(model, mazes, mz.TASK.defaults))
    return result


RINGED_SEED = 777  # perfect mazes laid out as maze libraries print them (sigma.tasks.maze.families.ringed)


def ringed_rates(model: SigmaGPT, base: SigmaGPT, n: int, seed: int = RINGED_SEED) -> dict:
    """Mazes laid out by other generators (a ring of walls, start and goal in it): one greedy try, the app's
    verified default, and the left-to-right baseline."""
    h, w = mz.grid_of(model)
    rng = random.Random(seed)
    mazes = [mf.ringed(h, w, rng) for _ in range(n)]
    return {
        "n": n,
        "exact-confident": rates_of(evaluate_mazes(model, mazes)),
        "verified": rates_of(run_verified(model, mazes, mz.TASK.defaults)),
        "baseline_l2r": rates_of(evaluate_mazes(base, mazes, sampler="sequential", order="l2r")),
    }


def rates_of(figures: dict) -> dict:
    return {"valid": figures["valid"], "optimal": figures["optimal"]}


def family_table(model: SigmaGPT, base: SigmaGPT, n: int, n_pinned: int, temperature: float, say) -> dict:
    """Every sampler, the baseline and pinned mazes on n seeded test mazes of each family."""
    h, w = mz.grid_of(model)
    table = {}
    for k, (name, mazes) in enumerate(family_sets(h, w, n, seed=TEST_SEED + 100).items()):
        row = {m: run_sampler(model, mazes, m, "random", temperature) for m in SAMPLERS}
        row["verified"] = run_verified(model, mazes, mz.TASK.defaults)
        row["baseline_l2r"] = run_sampler(base, mazes, "sequential", "l2r", temperature)
        row["pinned"] = pinned_rates(model, pinned_set(h, w, n_pinned, TEST_SEED + 200 + k, name), temperature)
        table[name] = row
        say(name, {m: (f["valid"], f["model_calls"]) for m, f in row.items() if m != "pinned"}, row["pinned"])
    return table


def mix_summary(table: dict) -> dict:
    """Means over families (each family weighs the same) and the worst family, per sampler."""
    summary = {}
    for sampler in (*SAMPLERS, "verified", "baseline_l2r"):
        valid = {name: row[sampler]["valid"] for name, row in table.items()}
        summary[sampler] = {
            "valid": round(statistics.mean(valid.values()), 4),
            "optimal": round(statistics.mean(row[sampler]["optimal"] for row in table.values()), 4),
            "worst_family": min(valid, key=valid.get),
            "worst_valid": min(valid.values()),
            "model_calls": round(statistics.mean(row[sampler]["model_calls"] for row in table.values()), 2),
        }
    for sampler in ("exact", "exact-confident", "verified"):
        summary[f"pinned_{sampler}"] = round(
            statistics.mean(row["pinned"][sampler]["valid"] for row in table.values()), 4
        )
    return summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="checkpoints/maze")
    p.add_argument("--baseline", default="checkpoints/maze-l2r")
    p.add_argument("--n", type=int, default=500, help="mazes of the random-walls test set")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--per-family", type=int, default=50, help="test mazes of each family (0: random walls only)")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default); the app uses 1")
    p.add_argument(
        "--curve",
        type=int,
        default=0,
        metavar="N",
        help="instead: valid rate and ms per maze for tries x temperature on N tuning mazes of every family",
    )


TUNING_SEED = 555  # the tries/temperature curve: apart from training validation (999) and the test sets
# (tries, temperature, window): the draft window as the tab would set it ("auto") or none (unwindowed)
CURVE = (
    (1, 0.0, "auto"),
    (1, 0.0, None),
    (4, 0.5, "auto"),
    (8, 0.5, "auto"),
    (8, 0.5, None),
    (8, 0.7, "auto"),
    (16, 0.5, "auto"),
    (16, 0.5, None),
    (16, 0.7, "auto"),
)


def tries_curve(model: SigmaGPT, n: int, say, curve: tuple = CURVE) -> list[dict]:
    """How verified tries trade time for valid paths on a tuning set: the maze tab's default is chosen here."""
    h, w = mz.grid_of(model)
    sets = family_sets(h, w, n, seed=TUNING_SEED)
    rows = []
    for tries, temperature, window in curve:
        settings = replace(mz.TASK.defaults, tries=tries, temperature=temperature, window=window)
        per_family = {name: run_verified(model, mazes, settings) for name, mazes in sets.items()}
        valid = {name: f["valid"] for name, f in per_family.items()}
        row = {
            "tries": tries,
            "temperature": temperature,
            "window": window,
            "valid": round(statistics.mean(valid.values()), 4),
            "worst_family": min(valid, key=valid.get),
            "worst_valid": min(valid.values()),
            "ms_p50": round(statistics.median(f["ms_p50"] for f in per_family.values()), 1),
        }
        rows.append(row)
        say(json.dumps(row))
    return rows


def run(args: argparse.Namespace) -> dict:
    """Top-level keys on the original random-walls test set (start and goal far apart); `families` and
    `mix` on --per-family seeded mazes of every family (start and goal anywhere)."""
    apply_threads(args)  # wall times depend on the threads: set them before anything is timed
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    n, temperature, per_family = args.n, args.temperature, args.per_family
    model = SigmaGPT.from_pretrained(args.checkpoint).eval()
    if args.curve:
        rows = tries_curve(model, args.curve, say)
        print(json.dumps({"curve": rows, "per_family": args.curve, "seed": TUNING_SEED}))
        return {"curve": rows}
    base = SigmaGPT.from_pretrained(args.baseline).eval()
    h, w = mz.grid_of(model)
    mazes = test_set(h, w, n, seed=TEST_SEED)
    result = {
        "grid": [h, w],
        "path_cells": h * w,
        "n": n,
        "temperature": temperature,
        "order": "random",
        "family": "random",
        "samplers": {},
    }
    for name, (sampler, window) in variants().items():
        result["samplers"][name] = run_sampler(model, mazes, sampler, "random", temperature, window)
        say(name, result["samplers"][name])
    seq = result["samplers"]["sequential"]["seconds"]
    result["speedup"] = {m: round(seq / f["seconds"], 2) for m, f in result["samplers"].items()}
    for sampler in ("sequential", "exact"):  # batched throughput, all mazes in one batch
        start = time.perf_counter()
        evaluate_mazes(model, mazes, sampler=sampler, order="random", temperature=temperature)
        result.setdefault("batched_mazes_per_second", {})[sampler] = round(n / (time.perf_counter() - start), 1)
    result["baseline_l2r"] = {
        k: v
        for k, v in run_sampler(base, mazes, "sequential", "l2r", temperature).items()
        if k in ("valid", "optimal", "seconds")
    }
    pinned = pinned_rates(model, pinned_set(h, w, min(n, 100)), temperature)
    result["pinned"] = {"n": pinned["n"], **pinned["exact"]}
    result["pinned_exact_confident"] = {"n": pinned["n"], **pinned["exact-confident"]}
    result["ringed"] = ringed_rates(model, base, min(n, 200))
    say("ringed", result["ringed"])
    if per_family:
        result["families"] = family_table(model, base, per_family, min(per_family, 40), temperature, say)
        result["mix"] = mix_summary(result["families"])
    print(json.dumps(result))
    return result

"""The signal σ-GPT against its left-to-right baseline on held-out flights: error, calibration, repeats, speed.

Two tasks on test flights: forecasting (the first third known) and infilling (a random 20 % of the steps known,
seeded per flight). For each, every σ-GPT sampler in random order draws `--draws` completions per flight at
temperature 1, all flights and draws in one batch; the baseline draws left to right, seeing only what lies
before each step (a prefix, known steps forced as it reaches them: all a left-to-right model can condition on).
From the draws: the mean absolute error in feet of their per-step median against the truth, the share of true
altitudes inside the 90 % (and 50 %) band of the draws and the calibration of the draws' spread (`rank_pit`:
0.9 for a calibrated model whatever the number of draws), the share of consecutive drawn steps that repeat the
step before (the paper's "repeating the same altitude"; the truth's own share beside it), model calls per drawn
step, seconds, and the speed-up over sequential decoding in the same run. The last line printed is the JSON of
every figure (with --json, the only one).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import Tensor

from sigma import SigmaGPT
from sigma.sampling import sample
from sigma.settings import SAMPLERS
from sigma.tasks import signal as sg
from train.loop import apply_threads
from train.signal import split_tokens
from train.signal_data import test_flight_tokens


def infill_known(flights: Tensor, share: float = 0.2, seed: int = 0) -> Tensor:
    """A random `share` of each flight's steps known, seeded: [N, T] bool."""
    gen = torch.Generator().manual_seed(seed)
    scores = torch.rand(flights.shape, generator=gen)
    k = max(1, round(share * flights.shape[1]))
    return scores.argsort(dim=1).argsort(dim=1) < k


@torch.inference_mode()
def prefix_draws(model: SigmaGPT, rows: Tensor, known: Tensor, seed: int = 0) -> Tensor:
    """Left-to-right draws that see only the steps before each one: known steps are forced when reached,
    unknown ones sampled at temperature 1. rows, known: [B, T]."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    tokens = rows.clone()
    B = rows.shape[0]
    in_tok, in_pos = torch.full((B, 1), model.bos), torch.full((B, 1), model.start)
    past = None
    for t in range(rows.shape[1]):  # one slot per pass, reading the step before and the cached ones
        sees = torch.ones(B, 1, t + 1, dtype=torch.bool)
        logits, new = model(in_tok, in_pos, torch.full((B, 1), t), past, sees)
        past = (
            new
            if past is None
            else [(torch.cat([k0, k], 2), torch.cat([v0, v], 2)) for (k0, v0), (k, v) in zip(past, new, strict=True)]
        )
        drawn = torch.multinomial(torch.softmax(logits[:, 0].float(), dim=-1), 1, generator=gen)[:, 0]
        tokens[:, t] = torch.where(known[:, t], rows[:, t], drawn)
        in_tok, in_pos = tokens[:, t : t + 1], torch.full((B, 1), t)
    return tokens


def rank_pit(draws: Tensor, truth: Tensor, seed: int = 0) -> Tensor:
    """Where the truth [N, T] falls among the draws [N, D, T], as a number in [0, 1] per step.

    The truth's rank among the D draws, ties broken at random, plus a uniform fraction, over D + 1. If the truth
    is one more draw from the model's own distribution, this is exactly uniform, whatever D and however
    discrete the values; so the share inside [0.05, 0.95] measures the model's 90 % calibration. The band of a
    few draws cannot (the 5–95 % quantiles of 16 draws hold a fresh draw only about 79 % of the time) and
    neither can ties on a grid of bins (counted inside, they inflate it)."""
    gen = torch.Generator().manual_seed(seed)
    below = (draws < truth[:, None]).sum(dim=1)
    equal = (draws == truth[:, None]).sum(dim=1)
    return (below + (equal + 1) * torch.rand(truth.shape, generator=gen)) / (draws.shape[1] + 1)


def figures(draws: Tensor, flights: Tensor, known: Tensor) -> dict:
    """Error of the median, band coverage, calibration and repeats of draws [N, D, T] against flights [N, T]:
    `in_90` is the share of true altitudes inside the 5–95 % band of the draws (what the fan chart shows),
    `pit_90` the calibration of `rank_pit` (0.9 for a model whose draws are as spread as the truth)."""
    feet = draws.float() * sg.BIN_FT
    truth = flights.float() * sg.BIN_FT
    unknown = ~known
    out = {"mae_ft": round(float((feet.median(dim=1).values - truth).abs()[unknown].mean()), 1)}
    pit = rank_pit(draws, flights)
    for name, lo, hi in (("90", 0.05, 0.95), ("50", 0.25, 0.75)):
        inside = (truth >= feet.quantile(lo, dim=1)) & (truth <= feet.quantile(hi, dim=1))
        out[f"in_{name}"] = round(float(inside[unknown].float().mean()), 3)
        out[f"pit_{name}"] = round(float(((pit >= lo) & (pit <= hi))[unknown].float().mean()), 3)
    drawn_next = unknown[:, None, 1:].expand_as(draws[..., 1:])
    out["repeats"] = round(float((draws[..., 1:] == draws[..., :-1])[drawn_next].float().mean()), 3)
    return out


def one_flight_speed(model: SigmaGPT, flights: Tensor, known: Tensor, batch: int) -> dict:
    """The page's regime: each flight on its own, as a batch of `batch` rows (1: a Fill; the draws: a Spread),
    every sampler at temperature 1. Median milliseconds per flight and the speed-up against sequential."""
    ms: dict[str, list[float]] = {sampler: [] for sampler in SAMPLERS}
    for i in range(len(flights)):
        rows, known_rows = flights[i : i + 1].expand(batch, -1), known[i : i + 1].expand(batch, -1)
        for sampler in SAMPLERS:
            start = time.perf_counter()
            sample(model, rows, known_rows, sampler=sampler, order="random", temperature=1.0, seed=i)
            ms[sampler].append(1000 * (time.perf_counter() - start))
    median = {sampler: round(statistics.median(times), 1) for sampler, times in ms.items()}
    return {"ms": median, "speedup": {s: round(median["sequential"] / median[s], 2) for s in SAMPLERS}}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sigma", default="checkpoints/signal", help="σ-GPT checkpoint")
    p.add_argument("--baseline", default="checkpoints/signal-l2r", help="left-to-right baseline checkpoint")
    p.add_argument(
        "--data",
        default=None,
        help="a folder from `python -m train.signal_data` (default: the test flights shipped in train/data/)",
    )
    p.add_argument("--n", type=int, default=64, help="test flights")
    p.add_argument("--draws", type=int, default=32, help="draws per flight (median, bands); the fan chart's 32")
    p.add_argument("--speed-n", type=int, default=8, help="flights timed one at a time (a Fill, a Spread); 0 skips")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    p.add_argument("--json", action="store_true", help="print only the JSON line")


def run(args: argparse.Namespace) -> dict:
    apply_threads(args)
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    sigma = SigmaGPT.from_pretrained(args.sigma).float().eval()
    base = SigmaGPT.from_pretrained(args.baseline).float().eval()
    shipped = torch.from_numpy(test_flight_tokens())
    flights = (split_tokens(args.data, "test") if args.data else shipped)[: args.n]
    rows = flights.repeat_interleave(args.draws, dim=0)
    forecast = torch.tensor(sg.forecast_known(flights.shape[1])).expand_as(flights)
    result: dict = {"settings": {"flights": len(flights), "draws": args.draws, "temperature": 1.0}}
    for task, known in (("forecast", forecast), ("infill", infill_known(flights))):
        say(f"\n{task}: {int(known[0].sum())} of {flights.shape[1]} steps known (first flight)")
        known_rows = known.repeat_interleave(args.draws, dim=0)
        drawn_steps = int((~known_rows).sum())
        section = {"truth_repeats": round(float((flights[:, 1:] == flights[:, :-1])[~known[:, 1:]].float().mean()), 3)}
        for sampler in SAMPLERS:
            start = time.perf_counter()
            out = sample(sigma, rows, known_rows, sampler=sampler, order="random", temperature=1.0, seed=1)
            seconds = time.perf_counter() - start
            section[sampler] = figures(out.tokens.view(len(flights), args.draws, -1), flights, known) | {
                "calls_per_step": round(int(out.model_calls.sum()) / drawn_steps, 4),
                "seconds": round(seconds, 2),
            }
            say(f"  σ-GPT {sampler:16s} {section[sampler]}")
        start = time.perf_counter()
        drawn = prefix_draws(base, rows, known_rows, seed=1)
        section["baseline_l2r"] = figures(drawn.view(len(flights), args.draws, -1), flights, known) | {
            "calls_per_step": round(rows.numel() / drawn_steps, 4),  # one pass per step, known ones included
            "seconds": round(time.perf_counter() - start, 2),
        }
        say(f"  baseline l2r           {section['baseline_l2r']}")
        sequential = section["sequential"]["seconds"]
        section["speedup"] = {s: round(sequential / section[s]["seconds"], 2) for s in SAMPLERS}
        if args.speed_n:
            for name, batch in (("one_fill", 1), ("one_spread", args.draws)):
                section[name] = one_flight_speed(sigma, flights[: args.speed_n], known[: args.speed_n], batch)
                say(f"  {name} (each flight alone, {batch} row(s)) {section[name]}")
        result[task] = section
    print(json.dumps(result))
    return result

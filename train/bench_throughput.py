"""Training throughput of a maze checkpoint on this machine: mazes/s per lever (threads, precision, batch size).

Each lever times the same optimizer steps (forward, backward, AdamW) on pre-built batches of the mix of
families, after one warm-up step, in one process; building the batches is timed apart (it runs in the main
process at training time, or in --workers). bf16 is autocast (float32 master weights and optimizer state);
where the CPU has no native bf16 it is emulated and slow, which is what `--dtype auto` avoids.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from functools import partial

import torch

from sigma import SigmaGPT
from sigma.tasks import maze as mz
from train.loop import Objective, TrainConfig, autocast, make_optimizer, native_bf16
from train.maze_data import training_batch


def steps_per_second(model: SigmaGPT, batches: list, dtype: str) -> float:
    """Optimizer steps per second over `batches` (the first is a warm-up and not timed)."""
    objective, opt = Objective(model), make_optimizer(model, TrainConfig())
    gen = torch.Generator().manual_seed(0)
    model.train()

    def step(tokens, known):
        with autocast(torch.device("cpu"), dtype):
            loss = objective(tokens, known, "random", gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(*batches[0])
    start = time.perf_counter()
    for tokens, known in batches[1:]:
        step(tokens, known)
    return (len(batches) - 1) / (time.perf_counter() - start)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", default="checkpoints/maze")
    p.add_argument("--steps", type=int, default=5, help="timed steps per lever")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])


def run(args: argparse.Namespace) -> dict:
    h, w = mz.grid_of(SigmaGPT.from_pretrained(args.checkpoint))
    make = partial(training_batch, h, w, waypoint_share=0.3, maker=mz.make)
    gen = torch.Generator().manual_seed(0)
    batches = {b: [make(b, gen) for _ in range(args.steps + 1)] for b in args.batch_sizes}
    start = time.perf_counter()
    make(64, gen)
    result = {
        "native_bf16": native_bf16(torch.device("cpu")),
        "batch_build_mazes_per_s": round(64 / (time.perf_counter() - start), 1),
        "levers": [],
    }
    for threads, dtype, batch in itertools.product(args.threads, args.dtypes, args.batch_sizes):
        torch.set_num_threads(threads)
        model = SigmaGPT.from_pretrained(args.checkpoint)
        rate = steps_per_second(model, batches[batch], dtype) * batch
        lever = {"threads": threads, "dtype": dtype, "batch": batch, "mazes_per_s": round(rate, 1)}
        result["levers"].append(lever)
        print(json.dumps(lever), flush=True)
    print(json.dumps(result))
    return result

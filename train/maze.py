"""Train a σ-GPT (or a left-to-right baseline) to draw shortest paths in mazes."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma import maze as mz
from sigma.sampling import sample
from train.loop import add_training_arguments, starting_model, train, train_config


def test_set(h: int, w: int, n: int, seed: int = 1234) -> list[mz.Maze]:
    """A fixed, seeded set of mazes, disjoint in seed from training batches."""
    rng = random.Random(seed)
    return [mz.generate(h, w, rng) for _ in range(n)]


def evaluate_mazes(
    model: SigmaGPT,
    mazes: list[mz.Maze],
    method: str = "exact-confident",
    order: str = "random",
    temperature: float = 0.0,
    seed: int = 0,
) -> dict:
    """Valid and optimal rates of one batched sampling run over `mazes`."""
    encoded = [mz.encode(m) for m in mazes]
    tokens = torch.stack([t for t, _ in encoded]).to(model.device)
    known = torch.stack([k for _, k in encoded]).to(model.device)
    out = sample(model, tokens, known, method=method, order=order, temperature=temperature, seed=seed)
    verdicts = [mz.check(m, mz.path_cells(m, t.cpu())) for m, t in zip(mazes, out.tokens, strict=True)]
    n = len(mazes)
    return {
        "valid": round(sum(v.valid for v in verdicts) / n, 4),
        "optimal": round(sum(v.optimal for v in verdicts) / n, 4),
        "model_calls": round(float(out.model_calls.float().mean()), 2),
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_training_arguments(p, out="runs/maze", steps=3000, batch_size=32, n_layer=6, warmup=150)
    p.add_argument("--grid", type=int, nargs=2, default=[9, 9], metavar=("H", "W"))
    p.add_argument("--order", default="random", choices=["random", "l2r", "fractal", "curriculum"])
    p.add_argument("--curriculum", type=int, nargs=2, default=[0, 0], metavar=("START", "END"))
    p.add_argument("--waypoint-share", type=float, default=0.3)
    p.add_argument("--eval-n", type=int, default=200, help="validation mazes scored at each evaluation")


def run(args: argparse.Namespace) -> None:
    cfg = train_config(args, tuple(args.curriculum))
    h, w = args.grid
    out = Path(args.out)

    def fresh() -> SigmaGPT:
        config = SigmaConfig(
            vocab_size=mz.VOCAB_SIZE,
            block_size=2 * h * w,
            n_layer=args.n_layer,
            n_head=args.n_head,
            n_embd=args.n_embd,
            grid=(2, h, w),
        )
        return SigmaGPT(config)

    model = starting_model(args, fresh)
    print(f"maze {h}x{w}: {model.num_params() / 1e6:.2f} M parameters, order {args.order}")
    mazes = test_set(h, w, args.eval_n, seed=999)  # validation set; the benchmark uses another seed
    sampler_order = "l2r" if args.order == "l2r" else "random"
    method = "sequential" if args.order == "l2r" else "exact-confident"

    def batches(batch: int, gen: torch.Generator):
        return mz.training_batch(h, w, batch, gen, args.waypoint_share)

    def evaluate(m: SigmaGPT) -> dict:
        return evaluate_mazes(m, mazes, method=method, order=sampler_order)

    train(model, batches, cfg, out_dir=out, evaluate=evaluate, resume=args.resume)

"""Train a σ-GPT (or a left-to-right baseline) to draw shortest paths in mazes."""

from __future__ import annotations

import argparse
import json
import random
from functools import partial
from pathlib import Path

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.tasks import maze as mz
from sigma.tasks.maze import families as mf
from train import maze_data
from train.loop import (
    add_training_arguments,
    apply_threads,
    model_shape,
    run_dir,
    starting_model,
    train,
    train_config,
)


def test_set(h: int, w: int, n: int, seed: int = 1234) -> list[mz.Maze]:
    """The original fixed, seeded test set: random walls, start and goal far apart (`sigma.tasks.maze.generate`)."""
    rng = random.Random(seed)
    return [mz.generate(h, w, rng) for _ in range(n)]


def family_sets(h: int, w: int, n: int, seed: int) -> dict[str, list[mz.Maze]]:
    """n seeded mazes of every family, each family from its own seed, disjoint in seed from training."""
    sets = {}
    for k, name in enumerate(mf.FAMILIES):
        rng = random.Random(seed + 7 * k)
        sets[name] = [mf.make(h, w, rng, name) for _ in range(n)]
    return sets


def evaluate_mazes(
    model: SigmaGPT,
    mazes: list[mz.Maze],
    sampler: str = "exact-confident",
    order: str = "random",
    temperature: float = 0.0,
    seed: int = 0,
) -> dict:
    """Valid and optimal rates of one batched sampling run over `mazes`."""
    encoded = [mz.encode(m) for m in mazes]
    tokens = torch.stack([t for t, _ in encoded]).to(model.device)
    known = torch.stack([k for _, k in encoded]).to(model.device)
    forbid = torch.stack([mz.TASK.forbid(m) for m in mazes]).to(model.device)  # on or off, as the app samples
    out = sample(model, tokens, known, sampler=sampler, order=order, temperature=temperature, seed=seed, forbid=forbid)
    verdicts = [mz.check(m, mz.path_cells(m, t.cpu())) for m, t in zip(mazes, out.tokens, strict=True)]
    return {**rates(verdicts), "model_calls": round(float(out.model_calls.float().mean()), 2)}


def rates(verdicts: list[mz.Verdict]) -> dict:
    """Valid and optimal shares of a list of verdicts."""
    n = max(1, len(verdicts))
    return {
        "valid": round(sum(v.valid for v in verdicts) / n, 4),
        "optimal": round(sum(v.optimal for v in verdicts) / n, 4),
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_training_arguments(p, out=str(run_dir("maze")), steps=3000, batch_size=32, n_layer=6, warmup=150)
    p.add_argument("--grid", type=int, nargs=2, default=[9, 9], metavar=("H", "W"))
    p.add_argument("--order", default="random", choices=["random", "l2r", "fractal", "curriculum"])
    p.add_argument("--curriculum", type=int, nargs=2, default=[0, 0], metavar=("START", "END"))
    p.add_argument("--waypoint-share", type=float, default=0.3)
    p.add_argument(
        "--around-share",
        type=float,
        default=0.1,
        help="share of training mazes whose goal is moved behind a wall from the start (maze_data.around_the_wall)",
    )
    p.add_argument("--eval-n", type=int, default=20, help="validation mazes of each family scored at each evaluation")
    p.add_argument(
        "--family",
        default="mix",
        choices=["mix", "hard", *mf.FAMILIES],
        help="maze family of the training batches (mix: a family drawn uniformly for every maze; hard: drawn in "
        "proportion to its validation error at the last evaluation, see `family_weights`)",
    )


def family_weights(valid_by_family: dict[str, float], floor: float = 0.02) -> dict[str, float]:
    """How often to draw each family for training: in proportion to its validation error plus a floor, so
    that the families the model gets wrong get most of the data and none is forgotten.

    family_weights({"a": 1.0, "b": 0.9, "c": 0.8}) -> {"a": 0.02, "b": 0.12, "c": 0.22}
    """
    return {name: round(floor + 1.0 - valid, 4) for name, valid in valid_by_family.items()}


def run(args: argparse.Namespace) -> None:
    apply_threads(args)  # before any torch work, so that building and evaluating the model use them too
    cfg = train_config(args, tuple(args.curriculum))
    h, w = args.grid
    out = Path(args.out)

    def fresh() -> SigmaGPT:
        config = SigmaConfig(vocab_size=mz.VOCAB_SIZE, block_size=2 * h * w, grid=(2, h, w), **model_shape(args))
        return SigmaGPT(config)

    model = starting_model(args, fresh)
    print(f"maze {h}x{w}: {model.num_params() / 1e6:.2f} M parameters, order {args.order}")
    families = family_sets(h, w, args.eval_n, seed=999)  # validation sets; the benchmark uses other seeds
    sampler_order = "l2r" if args.order == "l2r" else "random"
    sampler = "sequential" if args.order == "l2r" else "exact-confident"

    # the hard mix is re-weighted at every evaluation (batches are built in this process: --workers 0)
    weights = {name: 1.0 for name in mf.FAMILIES}
    state = out / "train_state.json"
    if args.resume and state.exists():  # go on with the weights of the run's last evaluation
        last = (json.loads(state.read_text())["log"] or [{}])[-1]
        weights.update(last.get("family_weights") or {})
    if args.family == "hard" and args.workers:
        raise SystemExit("--family hard re-weights the batches after each evaluation: use it with --workers 0")

    def hard_maze(h: int, w: int, rng: random.Random) -> mz.Maze:
        return mf.make(h, w, rng, rng.choices(list(weights), weights=list(weights.values()))[0])

    def batches(batch: int, gen: torch.Generator):
        if args.family == "hard":
            maker = hard_maze
        else:
            maker = partial(mf.make, family=None if args.family == "mix" else args.family)
        return maze_data.training_batch(
            h, w, batch, gen, args.waypoint_share, maker=maker, around_share=args.around_share
        )

    def evaluate(m: SigmaGPT) -> dict:
        per_family = {
            name: evaluate_mazes(m, mazes, sampler=sampler, order=sampler_order) for name, mazes in families.items()
        }
        valid = [f["valid"] for f in per_family.values()]
        weights.update(family_weights({name: f["valid"] for name, f in per_family.items()}))
        return {
            "valid": round(sum(valid) / len(valid), 4),
            "worst": min(per_family, key=lambda name: per_family[name]["valid"]),
            "worst_valid": min(valid),
            "model_calls": round(sum(f["model_calls"] for f in per_family.values()) / len(valid), 2),
            "valid_by_family": {name: f["valid"] for name, f in per_family.items()},
            "family_weights": dict(weights) if args.family == "hard" else None,
        }

    train(model, batches, cfg, out_dir=out, evaluate=evaluate, resume=args.resume)

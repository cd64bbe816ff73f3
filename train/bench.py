"""Benchmarks: `python -m train.bench toy|maze|text`."""

from __future__ import annotations

import argparse

from sigma.settings import SAMPLERS


def variants() -> dict[str, tuple[str, str | None]]:
    """Bench name -> (sampler, window): every sampler as `sample()` runs it (windowed), and unwindowed."""
    out = {m: (m, "auto" if m != "sequential" else None) for m in SAMPLERS}
    out |= {f"{m}/unwindowed": (m, None) for m in SAMPLERS if m != "sequential"}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    toy = sub.add_parser("toy", help="calls per token on an independent and a strongly dependent toy task")
    toy.add_argument("--steps", type=int, default=400)
    toy.add_argument("--n", type=int, default=256)
    text = sub.add_parser("text", help="the text σ-GPT against its left-to-right baseline: loss, calls, quality")
    text.add_argument("--sigma", default="checkpoints/text", help="σ-GPT checkpoint folder or hub id")
    text.add_argument("--baseline", default="checkpoints/text-l2r", help="left-to-right baseline checkpoint")
    text.add_argument("--n", type=int, default=12, help="sequences per sampler, for generation and for infilling")
    text.add_argument("--n-val", type=int, default=64, help="validation windows for the losses")
    text.add_argument("--temperature", type=float, default=1.0)
    text.add_argument("--order", default="random", help="order of the σ-GPT samplers: random, l2r, r2l, fractal")
    text.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    text.add_argument("--json", action="store_true", help="accepted for clarity: the last line is always JSON")
    cost = sub.add_parser("cost", help="a model call's fixed cost in slots, as the draft window uses it")
    cost.add_argument("--checkpoints", nargs="+", default=["checkpoints/text", "checkpoints/maze"])
    cost.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    maze = sub.add_parser("maze", help="valid/optimal rates, model calls and speed of every sampler on mazes")
    maze.add_argument("--checkpoint", default="checkpoints/maze")
    maze.add_argument("--baseline", default="checkpoints/maze-l2r")
    maze.add_argument("--n", type=int, default=500)
    maze.add_argument("--temperature", type=float, default=0.0)
    maze.add_argument("--per-family", type=int, default=50, help="test mazes of each family (0: random walls only)")
    maze.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if args.task == "toy":
        from train.bench_toy import main as toy_main

        toy_main(args.steps, args.n)
    elif args.task == "cost":
        from train.bench_cost import main as cost_main

        cost_main(args.checkpoints, args.threads)
    elif args.task == "maze":
        from train.bench_maze import main as maze_main

        maze_main(args.checkpoint, args.baseline, args.n, args.temperature, args.json, args.per_family)
    elif args.task == "text":
        from train.bench_text import main as text_main

        text_main(args.sigma, args.baseline, args.n, args.n_val, args.temperature, args.threads, args.order)


if __name__ == "__main__":
    main()

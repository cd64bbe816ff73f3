"""Benchmarks: `python -m train.bench toy` (more tasks join as they land)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    toy = sub.add_parser("toy", help="calls per token on an independent and a strongly dependent toy task")
    toy.add_argument("--steps", type=int, default=400)
    toy.add_argument("--n", type=int, default=256)
    args = parser.parse_args(argv)
    if args.task == "toy":
        from train.bench_toy import main as toy_main

        toy_main(args.steps, args.n)


if __name__ == "__main__":
    main()

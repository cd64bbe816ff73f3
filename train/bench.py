"""Benchmarks: `python -m train.bench toy|maze|text|cost`."""

from __future__ import annotations

from train import commands


def main(argv: list[str] | None = None) -> None:
    commands.main("python -m train.bench", __doc__, commands.BENCH, argv)


if __name__ == "__main__":
    main()

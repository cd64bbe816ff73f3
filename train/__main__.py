"""`python -m train <task> ...`: train a σ-GPT checkpoint for a task (maze, text), or ship a run."""

from __future__ import annotations

from train import commands


def main(argv: list[str] | None = None) -> None:
    commands.main("python -m train", __doc__, commands.TRAIN, argv)


if __name__ == "__main__":
    main()

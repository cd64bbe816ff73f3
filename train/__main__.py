"""`python -m train <task> ...`: train a σ-GPT checkpoint for a task (maze, text), or ship a run."""

from __future__ import annotations

import argparse
import importlib

TASKS = {"maze": "train.maze", "text": "train.text", "ship": "train.ship"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    for name, module in TASKS.items():
        try:
            task = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        task.add_arguments(sub.add_parser(name, help=task.__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    importlib.import_module(TASKS[args.task]).run(args)


if __name__ == "__main__":
    main()

"""The commands of `python -m train` and `python -m train.bench`, in one registry.

Each command is a module with `add_arguments(parser)`, which declares its flags, and `run(args)`, which does
the work; the first line of its docstring is its help.
"""

from __future__ import annotations

import argparse
import importlib

TRAIN = {
    "maze": "train.maze",
    "text": "train.text",
    "signal": "train.signal",
    "ship": "train.ship",
    "words": "train.words",
}
BENCH = {
    "toy": "train.bench_toy",
    "maze": "train.bench_maze",
    "text": "train.bench_text",
    "cost": "train.bench_cost",
    "tokenizers": "train.bench_tokenizers",
    "signal": "train.bench_signal",
    "throughput": "train.bench_throughput",
}


def main(prog: str, description: str | None, commands: dict[str, str], argv: list[str] | None = None) -> None:
    """Parse `argv` against every command's flags, then run the chosen one."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="task", required=True)
    modules = {name: importlib.import_module(path) for name, path in commands.items()}
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, help=module.__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    modules[args.task].run(args)

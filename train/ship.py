"""Write a run's weights as a shipped checkpoint: float16 model.safetensors and config.json.

The folder's model card (README.md) is left as it is: `save_pretrained` would replace it with a stub.
Loading casts the weights back to float32, so the fp16 copy only halves what the repository carries.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import tempfile
from pathlib import Path

from sigma import SigmaGPT


def ship(model: SigmaGPT, dest: str | Path) -> None:
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy.deepcopy(model).cpu().half().save_pretrained(tmp)  # the caller's model stays as it was
        for name in ("config.json", "model.safetensors"):
            shutil.copy(Path(tmp) / name, dest / name)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a training run's folder (from --out)")
    p.add_argument("dest", help="the checkpoint folder to write, e.g. checkpoints/maze")


def run(args: argparse.Namespace) -> None:
    ship(SigmaGPT.from_pretrained(args.run), args.dest)
    print(f"shipped {args.run} -> {args.dest} (float16)")

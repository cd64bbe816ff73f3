"""Line breaks in blanks: a blank inside a verse line never gets one (a forbid mask for the samplers)."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from sigma.tasks.text.bpe import VOCAB_SIZE, decode, get_encoding


@lru_cache(maxsize=4)
def newline_tokens(vocab_size: int = VOCAB_SIZE) -> Tensor:
    """Bool [V]: the tokens whose text holds a line break (never the pad, if `vocab_size` has one)."""
    enc = get_encoding(vocab_size)
    breaks = [b"\n" in enc.decode_single_token_bytes(t) for t in range(enc.n_vocab)]
    return torch.tensor(breaks + [False] * (vocab_size - enc.n_vocab))


def mid_line(
    ids: list[int] | tuple[int, ...], known: list[bool] | tuple[bool, ...], vocab_size: int = VOCAB_SIZE
) -> list[bool]:
    """Which blanks sit inside a line: known text touches the blank on both sides and neither touching
    character is a line break. A line break there is never what the passage asks for; a blank that starts
    or ends a line, or the passage, may hold one."""
    out, n = [False] * len(ids), len(ids)
    i = 0
    while i < n:
        if known[i]:
            i += 1
            continue
        j = i
        while j < n and not known[j]:
            j += 1
        left = decode(ids[i - 1 : i], vocab_size) if i > 0 else ""
        right = decode(ids[j : j + 1], vocab_size) if j < n else ""
        inside = bool(left) and bool(right) and not left.endswith("\n") and not right.startswith("\n")
        out[i:j] = [inside] * (j - i)
        i = j
    return out


def line_break_mask(
    ids: list[int] | tuple[int, ...], known: list[bool] | tuple[bool, ...], vocab_size: int = VOCAB_SIZE
) -> Tensor:
    """Bool [T, V]: line-break tokens in the blanks inside a line (see `mid_line`), for `forbid=`."""
    inside = torch.tensor(mid_line(ids, known, vocab_size))
    return inside[:, None] & newline_tokens(vocab_size)[None, :]

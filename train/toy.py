"""Two toy tasks that bracket what burst sampling can gain, each learned in under a minute on a CPU.

- product: a class token c is given; the other tokens are drawn independently from a distribution
  that depends on c (the paper's i.i.d. task). Given the prompt, nothing depends on anything else, so
  every draft should be accepted: burst and exact should finish in one or two steps.
- permutation: the sequence is a random permutation of 0..T-1. Every token constrains every other
  one, so drafts drawn independently clash and only a few are accepted per step.
"""

from __future__ import annotations

import torch
from torch import Tensor

PRODUCT_T, PRODUCT_V, PRODUCT_CLASSES = 16, 8, 4
PERM_T = 8


def product_table(seed: int = 0) -> Tensor:
    """Per-class token distributions [classes, V], peaky so that the task is not trivial."""
    gen = torch.Generator().manual_seed(seed)
    return torch.softmax(2.0 * torch.randn(PRODUCT_CLASSES, PRODUCT_V, generator=gen), dim=-1)


def product_batch(batch: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    table = product_table()
    cls = torch.randint(0, PRODUCT_CLASSES, (batch,), generator=gen)
    rest = torch.multinomial(table[cls], PRODUCT_T - 1, replacement=True, generator=gen)
    tokens = torch.cat([cls[:, None], rest], dim=1)
    known = torch.zeros_like(tokens, dtype=torch.bool)
    known[:, 0] = True
    return tokens, known


def permutation_batch(batch: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    tokens = torch.rand(batch, PERM_T, generator=gen).argsort(dim=1)
    return tokens, torch.zeros_like(tokens, dtype=torch.bool)


def is_permutation(tokens: Tensor) -> Tensor:
    return (tokens.sort(dim=1).values == torch.arange(tokens.shape[1])).all(dim=1)

"""Orders: which position a model reads or writes at each step.

An order is a permutation of the T positions of each row, known positions first. Every policy is a
sort key per position; sorting by (unknown, key) puts the known ones first and orders each group.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

ORDER_NAMES = ("random", "l2r", "r2l", "fractal")


@lru_cache(maxsize=64)
def fractal_ranks(T: int) -> tuple[int, ...]:
    """Rank of each position when visiting the middle first, then the middles of the halves, breadth first."""
    visit, queue = [], [(0, T)]
    while queue:
        lo, hi = queue.pop(0)
        if lo >= hi:
            continue
        mid = (lo + hi) // 2
        visit.append(mid)
        queue += [(lo, mid), (mid + 1, hi)]
    ranks = [0] * T
    for rank, pos in enumerate(visit):
        ranks[pos] = rank
    return tuple(ranks)


def order_key(order: str | Tensor | list, shape: tuple[int, int], device, generator=None) -> Tensor:
    """A float sort key [B, T] for the named policy or an explicit permutation."""
    B, T = shape
    idx = torch.arange(T, device=device, dtype=torch.float32).expand(B, T)
    if isinstance(order, str):
        if order == "random":
            return torch.rand(B, T, device=device, generator=generator)
        if order == "l2r":
            return idx
        if order == "r2l":
            return -idx
        if order == "fractal":
            return torch.tensor(fractal_ranks(T), device=device, dtype=torch.float32).expand(B, T)
        raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDER_NAMES)} or an explicit list")
    perm = torch.as_tensor(order, device=device).long()
    if perm.dim() == 1:
        perm = perm.expand(B, T)
    if perm.shape != (B, T) or not torch.equal(perm.sort(dim=1).values, torch.arange(T, device=device).expand(B, T)):
        raise ValueError(f"an explicit order must be a permutation of 0..{T - 1}")
    return torch.empty(B, T, device=device).scatter_(1, perm, idx.clone())


def make_order(order: str | Tensor | list, known: Tensor, generator=None) -> Tensor:
    """A permutation [B, T] per row: known positions first, each group ordered by the policy."""
    key = order_key(order, tuple(known.shape), known.device, generator)
    # keys lie in [-T, T], so an offset of 4T separates the groups without changing the order inside them
    key = key + (~known).float() * (4 * known.shape[1] + 4)
    return key.argsort(dim=1, stable=True)


@dataclass
class Curriculum:
    """Probability of a random-order batch, rising linearly from 0 (all left-to-right) at `start`
    to `share` (1: all random) at `end` and held there, counted in training steps."""

    start: int = 0
    end: int = 0
    share: float = 1.0

    def p_random(self, step: int) -> float:
        if step >= self.end:
            return self.share
        if step < self.start:
            return 0.0
        return self.share * (step - self.start) / max(1, self.end - self.start)

    def order_at(self, step: int, rng: random.Random) -> str:
        return "random" if rng.random() < self.p_random(step) else "l2r"

"""Per-row random draws: every row of a batch draws from its own seed, whatever else is in the batch.

A draw is keyed by (row seed, the row's step, purpose, index) and hashed to a uniform number, so a row's
samples do not depend on which rows ride along, how the batch is padded, or when the other rows finish:
row i of a batch with seed s is the same as a batch of one row with seed s + i. The hash is a 32-bit
integer mixer evaluated on int64 tensors, one vectorised op per stage.

Uniforms become tokens by the inverse CDF: token = the first index whose cumulative probability exceeds
u times the total, which never lands on a token of probability zero.
"""

from __future__ import annotations

import torch
from torch import Tensor

MASK32 = 0xFFFFFFFF
# purposes: the stage of a step a draw serves, in the high byte of its index
ORDER, DRAFT, ACCEPT, RESAMPLE, FRESH, ORDERS = range(1, 7)
KNOWN_SEED = 0x5EED  # the one shuffle every row reads its known positions in (see `order_key`)


def mix(x: Tensor) -> Tensor:
    """A bijection of [0, 2**32) whose output bits each depend on every input bit (Mueller's hash32; its
    multiplier is below 2**27, so int64 products never overflow): mix(tensor([0])) -> tensor([0])"""
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & MASK32
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & MASK32
    return x ^ (x >> 16)


def row_keys(seeds: Tensor, step: Tensor) -> Tensor:
    """One key per row and step [b], from which all the row's draws of that step are hashed."""
    return mix(mix(seeds & MASK32) ^ (step & MASK32))


def uniform(keys: Tensor, purpose: int, index: Tensor) -> Tensor:
    """Uniforms in [0, 1) [b, *index.shape[1:]] for rows with `keys` [b] and draw indices `index` [b, ...]
    (each below 2**24); float64."""
    code = (purpose << 24) | index
    view = keys.view(-1, *([1] * (index.dim() - 1)))
    return mix(view ^ code).double() / 2.0**32


def categorical(p: Tensor, u: Tensor) -> Tensor:
    """The inverse CDF of p [..., V] at u [...] (uniforms in [0, 1)): one token per distribution."""
    cdf = p.float().cumsum(-1)
    total = cdf[..., -1]
    x = torch.minimum((u * total.double()).float(), torch.nextafter(total, torch.zeros_like(total)))  # < total
    return torch.searchsorted(cdf, x[..., None], right=True)[..., 0]


def order_key(seeds: Tensor, known: Tensor) -> Tensor:
    """Sort keys [B, T] of the random order: each row's own shuffle of its unknown positions, and one
    shuffle for the known positions shared by every row and seed, so that rows with the same known tokens
    read them in the same order and can share that prefix's pass (`sigma.decoder`)."""
    B, T = known.shape
    positions = torch.arange(T, device=known.device).expand(B, T)
    own = uniform(row_keys(seeds, torch.zeros_like(seeds)), ORDER, positions)
    shared = uniform(row_keys(torch.full_like(seeds, KNOWN_SEED), torch.zeros_like(seeds)), ORDER, positions)
    return torch.where(known, shared, own)

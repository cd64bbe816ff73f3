"""The draft window: how many drafts a step verifies, and the proposals it drafts them from.

Verifying k drafts costs k slots of a model call, and a call has a fixed cost of its own (on this
CPU about the price of twenty slots; far more on a GPU). Drafts are accepted along the order until the
first rejection, so the expected number of tokens a step settles with a window of k drafts is
1 + α + … + α^k, where α is the acceptance rate of drafts so far in this row. The window maximises
settled tokens per unit of cost.

Exactness: k depends on the proposals and on earlier steps only, never on the values drafted in this
step; it is a stopping rule fixed before the drafts are drawn. Each settled token is still accepted
with probability min(1, q/p) or resampled from the residual, so it follows the model's conditional.

Proposals are kept between steps: every windowed call also asks for the distributions of the next
positions (its extra slots), so the following step drafts from them without a query pass of its own.
They may be stale (conditioned on a prefix without the last settled token, or on a rejected draft);
speculative sampling is exact for any proposal, stale ones are only accepted less often.
"""

from __future__ import annotations

import torch
from torch import Tensor

# a call's fixed cost in slots where a checkpoint carries no measurement of its own (SigmaConfig.call_cost_slots,
# written by `python -m train.bench cost --write`); cuda not measured here (no GPU at hand), set high because a
# GPU pass costs little more per slot
CALL_COST_SLOTS = {"cpu": 20.0, "cuda": 64.0}
MAX_WINDOW = 128  # drafts per step at most
REFRESH = 8  # extra slots per call at least, when an order is ranked by confidence (fresh confidences to rank by)
PRIOR = (1.9, 2.0)  # accepted, judged: a prior acceptance rate of 0.95, worth two drafts
DECAY = 0.9  # weight of the acceptance history per step, so that α follows the row's current regime


def expected_tokens(alpha: Tensor, k: Tensor) -> Tensor:
    """1 + α + … + α^k: tokens settled by a window of k drafts accepted independently with rate α.

    expected_tokens(tensor([0.5]), tensor([2])) -> tensor([1.75])"""
    alpha = alpha.clamp(max=0.999)
    return (1 - alpha ** (k + 1)) / (1 - alpha)


class Proposals:
    """Draft distributions p [B, T, V] of positions not yet settled, their confidence [B, T] (max of the
    untempered distribution, for ranking) and whether a position has one; plus each row's acceptance
    history for α."""

    def __init__(self, batch: int, length: int, vocab: int, device):
        self.p = torch.zeros(batch, length, vocab, device=device)
        self.conf = torch.full((batch, length), -1.0, device=device)
        self.has = torch.zeros(batch, length, dtype=torch.bool, device=device)
        self.accepted = torch.full((batch,), PRIOR[0], device=device)
        self.judged = torch.full((batch,), PRIOR[1], device=device)

    def store(self, rows: Tensor, pos: Tensor, valid: Tensor, p: Tensor, conf: Tensor) -> None:
        """Keep p [b, S, V] and conf [b, S] of positions pos [b, S] where valid."""
        i, j = valid.nonzero(as_tuple=True)
        r, c = rows[i], pos[i, j]
        self.p[r, c] = p[i, j]
        self.conf[r, c] = conf[i, j]
        self.has[r, c] = True

    def record(self, rows: Tensor, accepted: Tensor, judged: Tensor) -> None:
        self.accepted[rows] = DECAY * self.accepted[rows] + accepted.float()
        self.judged[rows] = DECAY * self.judged[rows] + judged.float()

    def alpha(self, rows: Tensor) -> Tensor:
        return self.accepted[rows] / self.judged[rows]


def choose_window(
    alpha: Tensor, available: Tensor, call_cost: float, remaining: Tensor | None = None, limit: int | None = None
) -> Tensor:
    """Drafts per row [b]: the k ≤ available that maximises expected tokens per slot of cost. A step
    costs the call, k + 1 chain slots and k + 1 extra slots (the next window's proposals; at least
    REFRESH for an order ranked by confidence, given `remaining` [b], never more than are left).
    `limit` caps k (a fixed window)."""
    k = torch.arange(MAX_WINDOW + 1, device=alpha.device)[None, :]  # (1, K)
    extra_slots = k + 1
    if remaining is not None:
        extra_slots = torch.minimum(extra_slots.clamp(min=REFRESH), (remaining[:, None] - k - 1).clamp(min=0))
    cost = call_cost + (k + 1) + extra_slots
    value = expected_tokens(alpha[:, None], k) / cost
    best = value.argmax(dim=1)
    cap = available if limit is None else available.clamp(max=limit)
    return torch.minimum(best, cap)

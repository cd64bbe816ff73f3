"""Verified tries: draw N candidates in one batch, keep the valid one the model likes best.

A task that can check an answer (a maze path is valid or not, `Task.accept`) turns inference compute into
correctness: N rows of one input are sampled together, each row its own draw (row i from seed + i, so the N
tries are exactly the single runs of seeds s..s+N-1, and they share the passes they have in common), and the
answer kept is the valid candidate with the highest log-likelihood under the model itself (summed by the
sampler as it settles each token, along the order it settled them). Each candidate is a sample from the
sampler; the choice among them is *selection*, so the kept answer does not follow the model's distribution
(it follows that distribution conditioned on being valid, sharpened towards the likeliest). When no candidate
is valid, the likeliest one is kept and `Tries.valid` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from sigma.model import SigmaGPT
from sigma.sampling import SampleResult, sample


@dataclass(frozen=True)
class Tries:
    """N candidates of one input: which was kept, which were valid, and how much the model liked each."""

    chosen: int
    valid: list[bool]
    log_likelihood: list[float]  # nats of the sampled positions given the known ones, along each row's settle order
    tokens: list[list[int]]

    @property
    def n_valid(self) -> int:
        return sum(self.valid)

    def summary(self) -> str:
        """choose(...).summary() -> "3 of 4 tries valid; the model's likeliest valid one is shown" """
        n = len(self.valid)
        if self.n_valid == 0:
            return f"none of {n} tries valid; the model's likeliest one is shown"
        return f"{self.n_valid} of {n} tries valid; the model's likeliest valid one is shown"


def choose(tokens: Tensor, valid: list[bool], log_likelihood: Tensor) -> Tries:
    """Keep the likeliest valid candidate of tokens [N, T] (or the likeliest, when none is valid), ranked by
    the run's own chain-rule log-likelihood [N] (`SampleResult.log_likelihood`: what the sampler summed as
    it settled each row, so ranking costs no model pass)."""
    scores = log_likelihood.tolist()
    pool = [i for i, ok in enumerate(valid) if ok] or list(range(len(valid)))
    chosen = max(pool, key=lambda i: (scores[i], -i))
    return Tries(chosen, list(valid), [round(s, 4) for s in scores], tokens.tolist())


def sample_tries(
    model: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    accept: Callable[[list[int]], bool],
    tries: int,
    *,
    order: str = "random",
    seed: int = 0,
    **settings,
) -> tuple[SampleResult, Tries]:
    """Sample `tries` candidates of one input tokens [T] / known [T] in one batch (`sigma.sampling.sample`
    with `settings`), check each with `accept`, and keep the likeliest valid one: (the batch's result, Tries)."""
    batch = tokens.expand(tries, -1), known.expand(tries, -1)
    out = sample(model, *batch, order=order, seed=seed, **settings)
    valid = [bool(accept(row)) for row in out.tokens.tolist()]
    return out, choose(out.tokens, valid, out.log_likelihood)

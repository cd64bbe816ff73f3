"""Verified tries: draw N candidates in one batch, keep the valid one the model likes best.

A task that can check an answer (a maze path is valid or not, `Task.accept`) turns inference compute into
correctness: N rows of one input are sampled together, each row its own draw (row i from seed + i, so the N
tries are exactly the single runs of seeds s..s+N-1, and they share the passes they have in common), and the
answer kept is the valid candidate with the highest log-likelihood under the model itself (summed by the
sampler as it settles each token, along the order it settled them). Each candidate is a sample from the
sampler; the choice among them is *selection*, so the kept answer does not follow the model's distribution
(it follows that distribution conditioned on being valid, sharpened towards the likeliest). When no candidate
is valid, the likeliest one is kept and `Tries.valid` says so.

A task may name a second batch (`Settings.retry`), drawn only when none of the first is valid, with other
settings: the maze's first batch settles cells in the model's confidence order, which fails the same way in
every try on a few mazes; a batch in random orders at temperature 1 fails differently (docs/maze.md). The kept
try then comes from the second batch, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from torch import Tensor

from sigma.model import SigmaGPT
from sigma.sampling import SampleResult, sample
from sigma.settings import Settings


@dataclass(frozen=True)
class Tries:
    """N candidates of one input: which was kept, which were valid, and how much the model liked each."""

    chosen: int
    valid: list[bool]
    log_likelihood: list[float]  # nats of the sampled positions given the known ones, along each row's settle order
    tokens: list[list[int]]
    first_batch: int = 0  # with a retry: the tries of the first batch (all invalid), which come first in the lists
    retried_with: str = ""  # with a retry: how its batch was drawn, in words

    @property
    def n_valid(self) -> int:
        return sum(self.valid)

    @property
    def row(self) -> int:
        """The kept try's row in the batch it was drawn in (the last batch)."""
        return self.chosen - self.first_batch

    def summary(self) -> str:
        """choose(...).summary() -> "3 of 4 tries valid; the model's likeliest valid one is shown" """
        n, first = len(self.valid) - self.first_batch, self.first_batch
        if first:
            said = f"none of {first} tries valid, then {self.n_valid} of {n} more ({self.retried_with}) valid"
            if self.n_valid == 0:
                said = f"none of {first} tries valid, nor any of {n} more ({self.retried_with})"
        else:
            said = f"{self.n_valid} of {n} tries valid" if self.n_valid else f"none of {n} tries valid"
        kept = "valid one" if self.n_valid else "one of the second batch" if first else "one"
        return f"{said}; the model's likeliest {kept} is shown"

    def after(self, first: Tries, retry: Settings) -> Tries:
        """These tries, drawn with `retry` once all of `first` were invalid, as one record of both batches."""
        return Tries(
            len(first.valid) + self.chosen,
            first.valid + self.valid,
            first.log_likelihood + self.log_likelihood,
            first.tokens + self.tokens,
            len(first.valid),
            f"{retry.sampler} sampler, {retry.order} order, temperature {retry.temperature:g}",
        )


def second_batch(retry: Settings | None, tries: int, seed: int) -> Settings | None:
    """The settings of the retry batch after `tries` tries seeded from `seed`, or None: only after several tries
    (one try is a plain sample), its rows seeded after the first batch's (seed + tries + i)."""
    return None if retry is None or tries < 2 else replace(retry, seed=seed + tries)


def choose(tokens: Tensor, valid: list[bool], log_likelihood: Tensor) -> Tries:
    """Keep the likeliest valid candidate of tokens [N, T] (or the likeliest, when none is valid), ranked by
    the run's own chain-rule log-likelihood [N] (`SampleResult.log_likelihood`: what the sampler summed as
    it settled each row, so ranking costs no model pass)."""
    scores = log_likelihood.tolist()
    pool = [i for i, ok in enumerate(valid) if ok] or list(range(len(valid)))
    chosen = max(pool, key=lambda i: (scores[i], -i))
    return Tries(chosen, list(valid), [round(s, 4) for s in scores], tokens.tolist())


def checked(tokens: Tensor, log_likelihood: Tensor, accept: Callable[[list[int]], bool | None]) -> Tries:
    """The candidates tokens [N, T] of one batch, each checked with `accept`, and the likeliest valid kept."""
    return choose(tokens, [bool(accept(row)) for row in tokens.tolist()], log_likelihood)


def sample_tries(
    model: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    accept: Callable[[list[int]], bool],
    tries: int,
    *,
    order: str = "random",
    seed: int = 0,
    retry: Settings | None = None,
    **settings,
) -> tuple[SampleResult, Tries]:
    """Sample `tries` candidates of one input tokens [T] / known [T] in one batch (`sigma.sampling.sample`
    with `settings`), check each with `accept`, and keep the likeliest valid one; when none is valid, the same
    with `retry`'s batch, if given (a task's `Settings.retry`). (The kept try's batch result, Tries.)"""
    out, kept = _batch(model, tokens, known, accept, tries, order=order, seed=seed, **settings)
    again = second_batch(retry, tries, seed)
    if kept.n_valid or again is None:
        return out, kept
    kwargs = again.engine_kwargs() | {"forbid": settings.get("forbid")}
    out, second = _batch(model, tokens, known, accept, again.tries, **kwargs)
    return out, second.after(kept, again)


def _batch(model, tokens, known, accept, tries: int, **settings) -> tuple[SampleResult, Tries]:
    out = sample(model, tokens.expand(tries, -1), known.expand(tries, -1), **settings)
    return out, checked(out.tokens, out.log_likelihood, accept)

"""Blanks of unknown length: fill "[...]" at every length and let the model's own likelihood choose.

A masked model must be told how many tokens a blank holds. σ-GPT can be asked instead: fill the blank at
each length 1..L, score each completed passage by its exact log-likelihood (the chain rule left to right, one
model pass), and keep the best. Several "[...]" blanks are chosen together, over every combination of lengths
(at most MAX_COMBINATIONS).

Candidates are ranked by `Candidate.score` (see `sigma.tasks.text.candidate`). This is how a model without
the pad token fills "[...]"; one that has it fills its slots in one run (`sigma.tasks.text.pads`), and the
benches run both on it to compare.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import torch

from sigma.model import SigmaGPT
from sigma.sampling import sample
from sigma.settings import Settings
from sigma.tasks.text.bpe import decode
from sigma.tasks.text.candidate import Candidate
from sigma.tasks.text.lines import line_break_mask
from sigma.tasks.text.pads import no_pads
from sigma.tasks.text.passage import Passage, show_fill

MAX_COMBINATIONS = 64


def with_lengths(passage: Passage, lengths: tuple[int, ...]) -> Passage:
    """The passage with lengths[i] blank tokens where its i-th "[...]" blank sits."""
    ids, known = list(passage.ids), list(passage.known)
    for gap, n in sorted(zip(passage.gaps, lengths, strict=True), reverse=True):  # from the end: indices hold
        ids[gap:gap] = [0] * n
        known[gap:gap] = [False] * n
    return replace(passage, ids=ids, known=known, gaps=())


def combinations(passage: Passage, block_size: int) -> list[tuple[int, ...]]:
    """Every choice of lengths that fits the model, or ValueError saying what to lower."""
    k = len(passage.gaps)
    if passage.max_length**k > MAX_COMBINATIONS:
        raise ValueError(
            f"{k} [...] blanks of up to {passage.max_length} tokens make {passage.max_length**k} combinations to "
            f"try; the limit is {MAX_COMBINATIONS}. Use fewer [...] blanks, or a lower longest [...] length "
            "(the page's slider)."
        )
    room = block_size - len(passage.ids)
    combos = [c for c in itertools.product(range(1, passage.max_length + 1), repeat=k) if sum(c) <= room]
    if not combos:
        raise ValueError(f"The text leaves no room for its [...] blanks within the model's {block_size} tokens.")
    return combos


@torch.inference_mode()
def nats(model: SigmaGPT, tokens: list[int]) -> float:
    """-log p(tokens) of a whole passage under the model, left to right."""
    return -float(model.log_prob(torch.tensor([tokens], device=model.device), order="l2r")[0])


def choose_lengths(model: SigmaGPT, passage: Passage, settings: Settings) -> Passage:
    """The passage with the lengths whose fill scores best; `tried` ranks every choice.
    Each length is filled with the same settings and seed, so the run that follows redraws the winner."""
    tried, run = [], settings.engine_kwargs()
    for lengths in combinations(passage, model.config.block_size):
        candidate = with_lengths(passage, lengths)
        tokens = torch.tensor(candidate.ids, dtype=torch.long)
        known = torch.tensor(candidate.known, dtype=torch.bool)
        forbid = line_break_mask(candidate.ids, candidate.known, model.config.vocab_size)
        if (pads := no_pads(model.config.vocab_size)) is not None:
            forbid |= pads  # each candidate has its length: no pads
        forbid = forbid.to(model.device)[None]
        out = sample(model, tokens[None].to(model.device), known[None].to(model.device), **run, forbid=forbid)
        filled = out.tokens[0].tolist()
        marked = show_fill(filled, candidate.known)
        tried.append(Candidate(lengths, tuple(filled), marked, nats(model, filled), len(decode(filled))))
    tried.sort(key=lambda c: c.score())
    return replace(with_lengths(passage, tried[0].lengths), tried=tuple(tried))

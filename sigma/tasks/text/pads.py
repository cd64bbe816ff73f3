"""Blanks of unknown length in one run: a "[...]" blank is L slots, filled with k tokens and L - k pads.

A model trained with the pad token (`PAD`, "nothing"; see `train/pads.py`) learns how long a phrase the context
asks for: it writes the phrase into the first slots and pads into the rest. A "[...]" run is then one sampling
run like any other, as fast as a "[___]" blank of L tokens, with any number of "[...]" blanks.

The slots are followed by one known pad, the blank's mark: the model reads only known tokens, so without it a
"[...]" blank would look exactly like a "[___]" blank of L tokens (never padded), and the model could not tell
that its last slots are likely pads. Pads decode to nothing, so the mark never shows in the text.

A blank's length is chosen before the run (`draw_lengths`): the median length of LENGTH_DRAWS draws of the
slots in one batch (exact sampler, random order, temperature 1: the model's own distribution of the length, which
the page's tries, confidence order and lower temperature would pull short); the slots past it become known pads
and the run fills the rest, pads forbidden.
Every sampler then draws exactly from the model's distribution with the pad forbidden outside the slots and in a
blank's first slot (so a blank holds at least one token). The model itself puts pads after the phrase; where it
draws a pad before a word, the blank's text is still its tokens in slot order, the pads left out (`decode` drops
them), so the rule "pads only at the end" is a rule of reading, and exact for every sampler.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import torch
from torch import Tensor

from sigma.model import SigmaGPT
from sigma.sampling import sample
from sigma.tasks.text.bpe import bpe_size
from sigma.tasks.text.passage import Passage

LENGTH_DRAWS = 16  # draws whose median length a "[...]" blank gets (one batch)


def knows_pads(vocab_size: int) -> bool:
    """Whether a model of `vocab_size` tokens has the pad (its BPE's size + 1)."""
    return bpe_size(vocab_size) != vocab_size


def no_pads(vocab_size: int) -> Tensor | None:
    """A forbid mask [V] for runs with no "[...]" blank: the pad, if the model has it, nowhere."""
    return torch.arange(vocab_size) == bpe_size(vocab_size) if knows_pads(vocab_size) else None


def with_slots(passage: Passage) -> Passage:
    """The passage with `max_length` unknown slots and a known pad (the mark) where each "[...]" blank sits;
    `slots` holds the slots' spans."""
    ids, known, spans = list(passage.ids), list(passage.known), []
    width, pad = passage.max_length, bpe_size(passage.vocab_size)
    for shift, gap in enumerate(sorted(passage.gaps)):
        at = gap + shift * (width + 1)
        ids[at:at] = [0] * width + [pad]
        known[at:at] = [False] * width + [True]
        spans.append((at, at + width))
    return replace(passage, ids=ids, known=known, gaps=(), slots=spans)


@torch.inference_mode()
def drawn_lengths(model: SigmaGPT, passage: Passage, forbid: Tensor, seed: int = 0) -> list[tuple[int, ...]]:
    """The tokens each "[...]" blank of the slotted passage (`with_slots`) holds in LENGTH_DRAWS draws of its slots
    in one batch (exact sampler, random order, temperature 1, the task's `forbid` [T, V]; rows seeded seed,
    seed + 1, ...): per blank, a sample of the model's own distribution of its length."""
    tokens = torch.tensor(passage.ids, device=model.device)[None].expand(LENGTH_DRAWS, -1)
    known = torch.tensor(passage.known, device=model.device)[None].expand(LENGTH_DRAWS, -1)
    forbid = forbid.to(model.device)[None]
    out = sample(model, tokens, known, sampler="exact", order="random", temperature=1.0, seed=seed, forbid=forbid)
    drawn = [slot_lengths(passage, row) for row in out.tokens.tolist()]
    return [tuple(column) for column in zip(*drawn, strict=True)]


def draw_lengths(model: SigmaGPT, passage: Passage, forbid: Tensor, seed: int = 0) -> Passage:
    """The slotted passage with each blank cut to the median of its `drawn_lengths`: the slots past it are known
    pads and no pad may be drawn in the others, so the run writes exactly that many tokens, given that length.
    The median, not the likeliest length or the best ±1 window: on held-out phrases no rule beat it on every
    phrase length (docs/text.md)."""
    lengths = [int(statistics.median_low(column)) for column in drawn_lengths(model, passage, forbid, seed)]
    ids, known_list, spans = list(passage.ids), list(passage.known), []
    for (start, end), k in zip(passage.slots, lengths, strict=True):
        ids[start + k : end] = [bpe_size(passage.vocab_size)] * (end - start - k)
        known_list[start + k : end] = [True] * (end - start - k)
        spans.append((start, start + k))
    return replace(passage, ids=ids, known=known_list, slots=spans, cut=True)


def marks(passage: Passage) -> set[int]:
    """Positions of the "[...]" blanks' marks and of the pads past their chosen lengths (known pads), which a
    page does not draw."""
    pad = bpe_size(passage.vocab_size)
    hidden = set()
    for _, end in passage.slots:
        while end < len(passage.ids) and passage.known[end] and passage.ids[end] == pad:
            hidden.add(end)
            end += 1
    return hidden


def slotted_length(passage: Passage) -> int:
    """Tokens of the passage once its "[...]" blanks have their slots and marks (`with_slots`)."""
    return len(passage.ids) + (passage.max_length + 1) * len(passage.gaps)


def pad_column(passage: Passage) -> Tensor:
    """Bool [T]: where the pad is forbidden: everywhere but a "[...]" blank's slots after its first (and
    everywhere once the slots are cut to their lengths)."""
    forbidden = torch.ones(len(passage.ids), dtype=torch.bool)
    for start, end in () if passage.cut else passage.slots:
        forbidden[start + 1 : end] = False
    return forbidden


def slot_lengths(passage: Passage, tokens: list[int]) -> tuple[int, ...]:
    """How many tokens (not pads) the model wrote into each "[...]" blank."""
    pad = bpe_size(passage.vocab_size)
    return tuple(sum(t != pad for t in tokens[start:end]) for start, end in passage.slots)


def pads_out_of_place(passage: Passage, tokens: list[int]) -> int:
    """Blanks where the model drew a pad before a word (read as if the pad came last); for the benches."""
    pad = bpe_size(passage.vocab_size)
    out = 0
    for start, end in passage.slots:
        inside = [t == pad for t in tokens[start:end]]
        out += any(a and not b for a, b in zip(inside, inside[1:], strict=False))
    return out

"""Blanks of unknown length in one run: a "[...]" blank is L slots, filled with k tokens and L - k pads.

A model trained with the pad token (`PAD`, "nothing"; see `train/pads.py`) learns how long a phrase the context
asks for: it writes the phrase into the first slots and pads into the rest. A "[...]" run is then one sampling
run like any other, as fast as a "[___]" blank of L tokens, with any number of "[...]" blanks.

The slots are followed by one known pad, the blank's mark: the model reads only known tokens, so without it a
"[...]" blank would look exactly like a "[___]" blank of L tokens (never padded), and the model could not tell
that its last slots are likely pads. Pads decode to nothing, so the mark never shows in the text.

Every sampler draws exactly from the model's distribution with the pad forbidden outside the slots and in a
blank's first slot (so a blank holds at least one token). The model itself puts pads after the phrase; where it
draws a pad before a word, the blank's text is still its tokens in slot order, the pads left out (`decode` drops
them), so the rule "pads only at the end" is a rule of reading, and exact for every sampler.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from sigma.tasks.text.bpe import bpe_size
from sigma.tasks.text.passage import Passage


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


def marks(passage: Passage) -> set[int]:
    """Positions of the "[...]" blanks' marks (known pads), which a page does not draw."""
    return {end for _, end in passage.slots}


def slotted_length(passage: Passage) -> int:
    """Tokens of the passage once its "[...]" blanks have their slots and marks (`with_slots`)."""
    return len(passage.ids) + (passage.max_length + 1) * len(passage.gaps)


def pad_column(passage: Passage) -> Tensor:
    """Bool [T]: where the pad is forbidden: everywhere but a "[...]" blank's slots after its first."""
    forbidden = torch.ones(len(passage.ids), dtype=torch.bool)
    for start, end in passage.slots:
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

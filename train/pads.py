"""Teach a text model "nothing": a `[...]` blank of up to L tokens is L slots, a phrase's k tokens then L - k pads.

`sigma.tasks.text.pads` samples such blanks; this module grows a model's vocabulary by the pad token and builds
the training windows that teach it: 1-8 phrases of whole words (1-6 words, at most L tokens) in a window, each
followed by its pads and the blank's mark (a known pad), only the phrases and pads scored, the rest of the window
known. The model thereby learns how long a phrase the context asks for, and that pads only ever follow the phrase.
"""

from __future__ import annotations

import random
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from sigma import SigmaGPT
from sigma.orders import make_order
from sigma.tasks.text import get_encoding
from sigma.tasks.text.bpe import bpe_size
from sigma.tasks.text.pads import knows_pads
from train.retokenize import respelled

MAX_SLOTS = 16  # the longest [...] blank trained; the page's default is 8
MIN_PAD_WINDOW = 32  # the shortest window with [...] blanks; windows run from it to the block size
MAX_BLANKS = 8  # blanks in a window: each teaches where its phrase ends once, when its first pad is drawn


def add_pad_token(model: SigmaGPT) -> SigmaGPT:
    """`model` with one more token (the pad, id = the old vocabulary size); every other weight kept. The pad
    starts as the mean input and output embedding, and the begin-of-sequence row moves one place up."""
    old = model.config.vocab_size
    return respelled(model, [[t] for t in range(old)] + [list(range(old))])


@lru_cache(maxsize=4)
def word_shapes(vocab_size: int) -> tuple[Tensor, Tensor, Tensor]:
    """Bool [V] thrice: tokens that begin a word (a leading space before a letter), that hold a letter, and
    that hold a line break."""
    enc = get_encoding(vocab_size)
    pieces = [enc.decode_single_token_bytes(t).decode("utf-8", "replace") for t in range(vocab_size)]
    starts = torch.tensor([len(p) > 1 and p[0] == " " and p[1].isalpha() for p in pieces])
    letters = torch.tensor([any(ch.isalpha() for ch in p) for p in pieces])
    breaks = torch.tensor(["\n" in p for p in pieces])
    return starts, letters, breaks


def phrase_at(row: list[int], start: int, words: int, vocab_size: int) -> int:
    """The end of a phrase of up to `words` whole words that begins at row[start], within its line: before the
    next word start or line break, with trailing tokens that hold no letter (punctuation) left out."""
    starts, letters, breaks = word_shapes(vocab_size)
    end, seen = start + 1, 1
    while end < len(row) and not breaks[row[end]] and not (starts[row[end]] and seen == words):
        seen += int(starts[row[end]])
        end += 1
    while end > start + 1 and not letters[row[end - 1]]:
        end -= 1
    return end


def pad_row(row: list[int], rng: random.Random, vocab_size: int) -> tuple[list[int], list[bool]]:
    """One window with 1-8 phrases turned into [...] blanks: the phrase, then pads up to the blank's L slots, then
    the known pad that marks a [...] blank, as `sigma.tasks.text.pads.with_slots` lays it out.
    A blank teaches its length only where its first pad is read (after it, a pad follows a pad), so a window
    holds many."""
    pad = vocab_size
    starts = word_shapes(vocab_size)[0]
    T = len(row)
    candidates = [i for i in range(1, T - 1) if starts[row[i]]]
    rng.shuffle(candidates)
    blanks: list[tuple[int, int, int]] = []  # (start, end, slots)
    for s in candidates[: rng.randint(1, MAX_BLANKS)]:
        slots = 8 if rng.random() < 0.3 else rng.randint(1, MAX_SLOTS)
        words = rng.randint(1, 6)
        e = phrase_at(row, s, words, vocab_size)
        while e - s > slots and words > 1:  # shorten to the slots a word at a time
            words -= 1
            e = phrase_at(row, s, words, vocab_size)
        if e - s > slots or any(s <= b_end and b_start <= e for b_start, b_end, _ in blanks):
            continue
        blanks.append((s, e, slots))
    tokens, known = list(row), [True] * T
    for s, e, slots in sorted(blanks, reverse=True):
        tokens[e:e] = [pad] * (slots - (e - s)) + [pad]  # the pads, then the blank's mark (sigma.tasks.text.pads)
        known[s:e] = [False] * (e - s)
        known[e:e] = [False] * (slots - (e - s)) + [True]
    return tokens[:T], known[:T]


def pad_batch(windows: Tensor, gen: torch.Generator, vocab_size: int) -> tuple[Tensor, Tensor]:
    """Tokens and known [B, T] for a batch of windows with [...] blanks and their pads (see `pad_row`)."""
    rng = random.Random(int(torch.randint(0, 2**31, (1,), generator=gen)))
    rows = [pad_row(w.tolist(), rng, vocab_size) for w in windows]
    return torch.tensor([t for t, _ in rows]), torch.tensor([k for _, k in rows])


def first_step_loss(model: SigmaGPT, tokens: Tensor, known: Tensor) -> Tensor:
    """Mean -log p of every unknown slot of a batch with [...] blanks given the known tokens only: what the first
    step of a [...] run reads. The chain rule in random order teaches it once a blank (its first slot read),
    and by then the window's other blanks have mostly shown their pads, which a run's first step never sees;
    this asks it of every slot, in one pass. Zero for a batch without blanks' marks (known pads)."""
    vocab = model.config.vocab_size
    if not knows_pads(vocab) or not bool(((tokens == bpe_size(vocab)) & known).any()):
        return tokens.new_zeros((), dtype=torch.float)
    perm = make_order("l2r", known)  # the known tokens first, then every unknown position
    in_tok, in_pos, out_pos = model.slots(tokens, perm)
    B, T = tokens.shape
    n = known.sum(dim=1, keepdim=True)  # slots from n on ask for unknown positions
    i = torch.arange(T, device=tokens.device)[None]
    query = i >= n
    first = n.clamp(max=T - 1)  # slot n reads the last known token; every query slot reads it, as a run's first step
    in_tok = torch.where(query, in_tok.gather(1, first), in_tok)
    in_pos = torch.where(query, in_pos.gather(1, first), in_pos)
    rows, cols = i[:, :, None], i[:, None, :]  # slot i may read slot j
    mask = (cols <= rows) & ((rows < n[:, :, None]) | (cols < n[:, :, None]) | (cols == rows))
    logits, _ = model(in_tok, in_pos, out_pos, mask=mask)
    logp = -F.cross_entropy(logits.float().transpose(1, 2), tokens.gather(1, perm), reduction="none")
    return -(logp * query).sum() / query.sum().clamp(min=1)

"""Measures of text models and their fills that do not depend on the tokenizer, so that vocabularies compare.

- bits per character: a loss in nats per token, times the tokens, over the characters they spell;
- the real-word rate: the share of the words a fill touches that the corpus knows;
- line breaks in blanks inside a line;
- held-out passages with phrases blanked: the same text for every vocabulary.
"""

from __future__ import annotations

import functools
import math
import random
import re
import statistics
import time
from dataclasses import dataclass, replace
from functools import lru_cache, partial

import torch
from torch import Tensor

from sigma import SigmaGPT
from sigma.sampling import sample, stream
from sigma.settings import Settings
from sigma.tasks.text import (
    TASK,
    Passage,
    decode,
    load_plays,
    newline_tokens,
    parse_blanks,
    parse_passage,
    split_plays,
)
from sigma.tasks.text.candidate import LENGTH_PENALTY
from sigma.tasks.text.lengths import choose_lengths
from sigma.tasks.text.lexicon import WORD, fill_spans, filled_words
from sigma.tasks.text.pads import drawn_lengths, knows_pads, pads_out_of_place, slot_lengths, with_slots
from sigma.tries import sample_tries


@lru_cache(maxsize=1)
def corpus_words() -> frozenset[str]:
    """Every word of the 38 plays, lower-cased: the word list a fill's words are checked against."""
    return frozenset(w.lower() for text in load_plays().values() for w in WORD.findall(text))


def bits_per_character(nats: float, tokens: int, characters: int) -> float:
    """A mean loss in nats per token as bits per character of the text those tokens spell."""
    return nats * tokens / characters / math.log(2)


def real_word_rate(words: list[str], vocabulary: frozenset[str] | None = None) -> float:
    """The share of `words` in the corpus's word list (case-insensitive); nan for no words."""
    vocabulary = corpus_words() if vocabulary is None else vocabulary
    return sum(w.lower() in vocabulary for w in words) / len(words) if words else float("nan")


@dataclass(frozen=True)
class Phrase:
    """A held-out passage with one phrase inside a verse line in {braces}: the blank and its truth."""

    passage: str
    phrase: str

    @property
    def words(self) -> int:
        return len(WORD.findall(self.phrase))


def blanked_phrases(n: int, words: tuple[int, int] = (2, 5), seed: int = 0, max_chars: int = 500) -> list[Phrase]:
    """`n` passages of the held-out plays (a speaker and the lines up to the blanked one), each with a
    phrase of `words` words blanked inside a line, never its first or last word."""
    rng = random.Random(seed)
    _, val = split_plays()
    speeches = [s for name in val for s in load_plays()[name].split("\n\n") if s.count("\n") >= 1]
    out: list[Phrase] = []
    for _ in range(1000 * n):
        if len(out) == n:
            break
        speaker, *lines = rng.choice(speeches).split("\n")
        k = rng.randint(*words)
        candidates = [i for i, line in enumerate(lines) if len(WORD.findall(line)) >= k + 2]
        if not candidates:
            continue
        i = rng.choice(candidates)
        found = list(WORD.finditer(lines[i]))
        first = rng.randint(1, len(found) - k - 1)
        a, b = found[first].start(), found[first + k - 1].end()
        line = lines[i][:a] + "{" + lines[i][a:b] + "}" + lines[i][b:]
        passage = "\n".join([speaker, *lines[max(0, i - 4) : i], line])
        if len(passage) <= max_chars:
            out.append(Phrase(passage, lines[i][a:b]))
    if len(out) < n:
        raise ValueError(f"found only {len(out)} of {n} passages within {max_chars} characters")
    return out


@dataclass
class FillFigures:
    """What fills of blanked phrases measure: real words, line breaks, the words themselves, the time taken."""

    words: list[str]
    fills: list[str]
    newline_fills: int
    ms: list[float]

    def as_json(self) -> dict:
        n = max(1, len(self.fills))
        return {
            "real_word_rate": round(real_word_rate(self.words), 4),
            "words": len(self.words),
            "fills": len(self.fills),
            "newline_rate": round(self.newline_fills / n, 4),
            "ms_p50": round(statistics.median(self.ms), 1) if self.ms else None,
        }


def fill_phrases(
    model: SigmaGPT, phrases: list[Phrase], settings: Settings, forbid_newlines: bool = True
) -> FillFigures:
    """Fill every phrase's blank (as many tokens as the true phrase) with `settings`, one passage at a time
    and seeded by its index; with `forbid_newlines`, as the app does, no line break inside a line. With
    settings.tries > 1, as the app: the tries in one batch, the likeliest real-word one kept (sigma.tries)."""
    vocab = model.config.vocab_size
    figures = FillFigures([], [], 0, [])
    for i, phrase in enumerate(phrases):
        tokens, known = parse_blanks(phrase.passage, model.config.block_size, vocab)
        passage = Passage(tokens.tolist(), known.tolist(), vocab_size=vocab)
        forbid = TASK.forbid(passage)  # as the app: no pads here
        if not forbid_newlines:
            forbid &= ~newline_tokens(vocab)
        kwargs = {**settings.engine_kwargs(), "seed": i, "forbid": forbid[None]}
        t0 = time.perf_counter()
        if settings.tries > 1:
            accept = functools.partial(TASK.accept, passage)
            _, tries = sample_tries(model, tokens, known, accept, settings.tries, **kwargs)
            filled = tries.tokens[tries.chosen]
        else:
            filled = sample(model, tokens[None], known[None], **kwargs).tokens[0].tolist()
        figures.ms.append(1000 * (time.perf_counter() - t0))
        text, spans = fill_spans(filled, known.tolist(), vocab)
        fills = [text[a:b] for a, b in spans]
        figures.words += filled_words(text, spans)
        figures.fills += fills
        figures.newline_fills += sum("\n" in f for f in fills)
    return figures


def bench_phrases(model: SigmaGPT, n: int, words: tuple[int, int] = (2, 5), seed: int = 1) -> list[Phrase]:
    """The benches' held-out phrases: passages short enough for any of the vocabularies (the corpus averages
    2.3 or more characters per token), the same text for every model of one block size."""
    return blanked_phrases(n, words=words, seed=seed, max_chars=2 * model.config.block_size)


def fills_both_ways(model: SigmaGPT, phrases: list[Phrase], settings: Settings) -> dict:
    """Fills of the phrases with line breaks forbidden inside a line (as the app does), and allowed."""
    return {
        "fills": fill_phrases(model, phrases, settings).as_json(),
        "fills_newlines_allowed": fill_phrases(model, phrases, settings, forbid_newlines=False).as_json(),
    }


@torch.no_grad()
def phrase_bits(model: SigmaGPT, phrases: list[Phrase], order: str = "random", seed: int = 0) -> float:
    """Bits per character of the true phrases given the rest of their passages, along `order` over the blanks."""
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(seed)
    nats, chars = 0.0, 0
    for phrase in phrases:
        tokens, known = parse_blanks(phrase.passage, model.config.block_size, vocab)
        nats -= float(model.log_prob(tokens[None], order=order, known=known[None], generator=gen)[0])
        chars += len(decode(tokens[~known], vocab))
    return nats / chars / math.log(2)


def windows_bits(model: SigmaGPT, tokens: Tensor, nats_per_token: float, known: Tensor | None = None) -> float:
    """A loss over validation windows (of the scored tokens, with `known`) in bits per character."""
    vocab = model.config.vocab_size
    if known is None:
        return bits_per_character(nats_per_token, tokens.numel(), sum(len(decode(r, vocab)) for r in tokens))
    chars = sum(len(decode(r[~k], vocab)) for r, k in zip(tokens, known, strict=True))
    return bits_per_character(nats_per_token, int((~known).sum()), chars)


def length_choices(model: SigmaGPT, phrases: list[Phrase], settings: Settings, max_length: int = 8) -> dict:
    """Each phrase's blank as "[...]": how often the chosen length equals the phrase's true length in tokens, and
    how often it is within one token (every true length here is at most `max_length`); `constant_within_one` is
    the same rate for always guessing k tokens, the bar a choice must clear to mean anything.

    `draw_rules`, for a model that knows the pad: the same draws of its length (`pads.drawn_lengths`) read by each
    of LENGTH_RULES (the page reads the median).

    `ranked`: every length filled and ranked by the model's likelihood (`sigma.tasks.text.lengths`), for the
    app's length penalty and, under `by_penalty`, the plain likelihood (0) and per character (1). `slots`, for a
    model that knows the pad: one run over `max_length` slots (`sigma.tasks.text.pads`), with the time to its
    first step and to the end, and how often a pad came before a word."""
    passages, truth = unknown_lengths(model, phrases, max_length)
    n = max(1, len(phrases))
    rates = partial(length_rates, truth=truth)
    tried = [choose_lengths(model, p, replace(settings, seed=i)).tried for i, p in enumerate(passages)]
    ranked = rates([min(t, key=lambda c: c.score()).lengths[0] for t in tried]) | {"penalty": LENGTH_PENALTY}
    ranked["by_penalty"] = {
        str(p): rates([min(t, key=lambda c: c.score(p)).lengths[0] for t in tried]) for p in (0.0, LENGTH_PENALTY, 1.0)
    }
    out = {"n": len(phrases), "max_length": max_length, "mean_true": round(sum(truth) / n, 3), "ranked": ranked}
    if knows_pads(model.config.vocab_size):
        out["slots"] = slot_choices(model, passages, settings)
        out["slots"] |= rates(out["slots"].pop("chosen"))
        out["draw_rules"] = draw_rules(model, passages, truth)
    out["constant_within_one"] = {str(k): round(sum(abs(k - t) <= 1 for t in truth) / n, 4) for k in range(1, 5)}
    return out


def unknown_lengths(model: SigmaGPT, phrases: list[Phrase], max_length: int = 8) -> tuple[list[Passage], list[int]]:
    """Each phrase's passage with its blank written "[...]" (at most `max_length` tokens), and the phrase's true
    length in tokens."""
    passages, truth = [], []
    for phrase in phrases:
        _, known = parse_blanks(phrase.passage, model.config.block_size, model.config.vocab_size)
        truth.append(int((~known).sum()))
        text = re.sub(r"\{[^}]*\}", "[...]", phrase.passage)
        passages.append(TASK.parse(parse_passage(text, model.config.block_size, max_length), model))
    return passages, truth


def length_rates(chosen: list[int], truth: list[int]) -> dict:
    """How often the chosen lengths equal the true ones and are within one token of them; their mean."""
    n = max(1, len(truth))
    return {
        "exact": round(sum(c == t for c, t in zip(chosen, truth, strict=True)) / n, 4),
        "within_one": round(sum(abs(c - t) <= 1 for c, t in zip(chosen, truth, strict=True)) / n, 4),
        "mean_chosen": round(sum(chosen) / n, 3),
    }


def draw_rules(model: SigmaGPT, passages: list[Passage], truth: list[int]) -> dict:
    """`length_rates` of each of LENGTH_RULES, all reading the same drawn lengths of each passage's one "[...]"
    blank (`pads.drawn_lengths`, seeded by the passage's index), for a model that knows the pad."""
    slotted = [with_slots(p) for p in passages]
    drawn = [drawn_lengths(model, p, TASK.forbid(p), seed=i)[0] for i, p in enumerate(slotted)]
    return {name: length_rates([rule(d) for d in drawn], truth) for name, rule in LENGTH_RULES.items()}


def _best_window(drawn: tuple[int, ...]) -> int:
    """The length k with the most draws at k - 1, k or k + 1 (the smallest on ties)."""
    return max(range(min(drawn), max(drawn) + 1), key=lambda k: sum(abs(d - k) <= 1 for d in drawn))


# ways to pick a "[...]" blank's length from its LENGTH_DRAWS drawn lengths; the page uses the median
LENGTH_RULES = {
    "median": lambda drawn: int(statistics.median_low(drawn)),
    "likeliest": lambda drawn: max(sorted(set(drawn)), key=drawn.count),
    "best_window": _best_window,
    "mean": lambda drawn: round(statistics.mean(drawn)),
}


def slot_choices(model: SigmaGPT, passages: list[Passage], settings: Settings) -> dict:
    """Fill each passage's "[...]" slots in one run (seeded by its index): the length each chose, the time to
    the first step and to the end (ms, p50), and how often a pad came before a word."""
    chosen, first_ms, total_ms, out_of_place = [], [], [], 0
    for i, passage in enumerate(passages):
        t0 = time.perf_counter()
        slotted = TASK.resolve(passage, model, settings)
        tokens, known = TASK.encode(slotted)
        kwargs = {**settings.engine_kwargs(), "seed": i}
        events = stream(model, tokens[None], known[None], **kwargs, forbid=TASK.forbid(slotted)[None])
        first = next(events)
        first_ms.append(1000 * (time.perf_counter() - t0))
        *_, last = [first, *events]
        total_ms.append(1000 * (time.perf_counter() - t0))
        drawn = last.tokens[0].tolist()
        chosen.append(slot_lengths(slotted, drawn)[0])
        out_of_place += pads_out_of_place(slotted, drawn)
    return {
        "chosen": chosen,
        "first_step_ms_p50": round(statistics.median(first_ms), 1),
        "run_ms_p50": round(statistics.median(total_ms), 1),
        "pads_before_a_word": round(out_of_place / max(1, len(passages)), 4),
    }

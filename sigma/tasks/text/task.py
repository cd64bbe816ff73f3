"""Text infilling as a `sigma.task.Task`, with the page's example passages."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from sigma.settings import Settings
from sigma.tasks.text.bpe import PAD, decode, get_encoding, piece
from sigma.tasks.text.candidate import Candidate
from sigma.tasks.text.lengths import choose_lengths
from sigma.tasks.text.lexicon import only_real_words, unknown_words
from sigma.tasks.text.lines import line_break_mask
from sigma.tasks.text.pads import (
    LENGTH_DRAWS,
    draw_lengths,
    knows_pads,
    pad_column,
    slot_lengths,
    slotted_length,
    with_slots,
)
from sigma.tasks.text.passage import Passage, check_length, parse_passage, show_fill
from sigma.words import plural

# Laid out as the corpus is (speaker, then verse lines): a passage of prose with no line breaks looks to the
# model as if the missing line breaks were in the blanks. The last passage is from a play held out of training.
EXAMPLES = [
    "HAMLET:\nTo be, or not to be: that is the {question}:\nWhether 'tis nobler in the mind to {suffer}\n"
    "The slings and arrows of outrageous {fortune},\nOr to take arms against a sea of troubles,",
    "ROMEO:\nBut, soft! what light through yonder [...] breaks?\nIt is the east, and Juliet is the [...].\n"
    "Arise, fair sun, and kill the envious moon,",
    "JAQUES:\nAll the world's a {stage},\nAnd all the men and women merely {players}:\n"
    "They have their exits and their entrances;\nAnd one man in his time plays many parts,",
    "ANTONY:\nFriends, Romans, countrymen, lend me your {ears};\nI come to {bury} Caesar, not to praise him.\n"
    "The evil that men do lives after them;\nThe good is oft {interred with their bones};",
]


@dataclass(frozen=True)
class Filled:
    """A finished fill: the whole text, and the same with every filled run in [brackets]."""

    text: str
    marked: str
    filled: int  # tokens the model wrote

    tried: tuple[Candidate, ...] = ()  # the lengths tried for "[...]" blanks, best first
    blank_lengths: tuple[int, ...] = ()  # tokens in each "[...]" blank, by a model that knows the pad
    unknown: tuple[str, ...] = ()  # words of the fill that are not words of the training plays
    redrawn: bool = False  # the fill shown is not the ranked fill of the chosen lengths (the tries kept another)

    @property
    def sentence(self) -> str:
        done = f"Done: the model wrote {plural(self.filled, 'token')}."
        if self.unknown:
            quoted = ", ".join(f"“{w}”" for w in dict.fromkeys(self.unknown))  # one quote style, apostrophes kept
            done = f"{done} Not words of the plays it learned from: {quoted}."
        how = f"(the median length of {LENGTH_DRAWS} draws of the model, random order, temperature 1)"
        if len(self.blank_lengths) == 1:
            return f"{done} Its [...] blank holds {plural(self.blank_lengths[0], 'token')} {how}."
        if self.blank_lengths:
            *first, last = self.blank_lengths
            held = ", ".join(str(n) for n in first) + f" and {last}"
            return f"{done} Its [...] blanks hold {held} tokens {how}."
        if not self.tried:
            return done
        best, *others = self.tried
        rest = "; ".join(f"{c.label} ({c.score():.2f})" for c in others[:3])
        chosen = f"Chosen lengths: {best.label} (score {best.score():.2f}; {best.bits_per_char:.2f} bits/char)."
        if self.redrawn:
            chosen = (
                f"Chosen lengths: {best.counts}, by ranking one fill of each length (at these, {best.fills}: score "
                f"{best.score():.2f}; {best.bits_per_char:.2f} bits/char); the fill shown is the one the tries kept."
            )
        key = "nats over characters^0.5, lower is better"
        return f"{done} {chosen} Next best by the same score ({key}): {rest}."

    @property
    def tone(self) -> str:
        return "fair" if self.unknown else "good"

    def as_json(self) -> dict:
        out = {"text": self.text, "marked": self.marked, "message": self.sentence, "unknown_words": list(self.unknown)}
        if self.tried:
            out["lengths"] = [c.as_json() for c in self.tried]
        if self.blank_lengths:
            out["blank_lengths"] = list(self.blank_lengths)
        return out


class TextTask:
    """Text infilling as a `sigma.task.Task`: the value is a `Passage`, the answer its blanks."""

    name, verb, shown_as = "text", "fill", "marked"
    valid_means = "every word it touches is a word of the plays the model was trained on"
    # 8 tries at 0.8: the highest real-word rate at <= 150 ms a fill, on 96 held-out tuning phrases (docs/text.md)
    defaults = Settings(sampler="exact-confident", temperature=0.8, tries=8)
    choices = None

    def check_model(self, model) -> str | None:
        n_vocab = get_encoding().n_vocab
        if model.config.vocab_size not in (n_vocab, n_vocab + 1):
            size = model.config.vocab_size
            return f"has vocab_size {size}, not the tokenizer's {n_vocab} (or {n_vocab + 1} with the pad)"
        return None

    def parse(self, source: str | Passage, model) -> Passage:
        passage = source if isinstance(source, Passage) else parse_passage(source, model.config.block_size)
        passage = replace(passage, vocab_size=model.config.vocab_size)
        if knows_pads(passage.vocab_size) and passage.gaps:
            what = f"text, with {passage.max_length} slots and a mark for each [...] blank,"
            check_length(slotted_length(passage), model.config.block_size, what)
        check_length(len(passage.ids) + len(passage.gaps), model.config.block_size)
        return passage

    def resolve(self, passage: Passage, model, settings: Settings) -> Passage:
        """A passage with "[...]" blanks gets its slots cut to the median length the model draws, if it knows
        the pad (sigma.tasks.text.pads), or else the lengths the model likes best (sigma.tasks.text.lengths)."""
        if not passage.gaps:
            return passage
        if knows_pads(model.config.vocab_size):
            slotted = with_slots(replace(passage, vocab_size=model.config.vocab_size))
            return draw_lengths(model, slotted, self.forbid(slotted), settings.seed)
        return choose_lengths(model, passage, settings)

    def problem(self, passage: Passage) -> str | None:
        if passage.gaps:
            return None
        if all(passage.known):
            return "Nothing is blank: click tokens to blank them, or write [___], [...] or {words} in the text."
        return None

    def forbid(self, passage: Passage) -> Tensor:
        """Line breaks are not drawn in blanks inside a line (see `mid_line`); the pad, if the model has it,
        only in a "[...]" blank's slots after its first."""
        mask = line_break_mask(passage.ids, passage.known, passage.vocab_size)
        if knows_pads(passage.vocab_size):
            mask[:, PAD] = pad_column(passage)
        return mask

    def encode(self, passage: Passage) -> tuple[Tensor, Tensor]:
        if passage.gaps:
            raise ValueError("A [...] blank has no length until the model fills it; write [___] to look inside.")
        return torch.tensor(passage.ids, dtype=torch.long), torch.tensor(passage.known, dtype=torch.bool)

    def show(self, passage: Passage, tokens: list[int], done: list[bool]) -> str:
        return show_fill(tokens, passage.known, done=done)

    def verdict(self, passage: Passage, tokens: list[int]) -> Filled:
        written = sum(t != PAD for t, k in zip(tokens, passage.known, strict=True) if not k)
        lengths = slot_lengths(passage, tokens)
        unknown = tuple(unknown_words(tokens, list(passage.known), passage.vocab_size))
        redrawn = bool(passage.tried) and tuple(tokens) != passage.tried[0].tokens
        marked = show_fill(tokens, passage.known)
        return Filled(decode(tokens), marked, written, passage.tried, lengths, unknown, redrawn)

    def accept(self, passage: Passage, tokens: list[int]) -> bool:
        """A fill is accepted when every word it touches is a word of the training plays (sigma.tasks.text.lexicon)."""
        return only_real_words(tokens, list(passage.known), passage.vocab_size)

    def position(self, passage: Passage, index: int) -> int:
        return index

    def token_json(self, token: int) -> str:
        return piece(token)

    def token_label(self, token: int) -> str:
        return piece(token).replace("\n", "↵")

    def examples(self, model) -> list[str]:
        return list(EXAMPLES)


TASK = TextTask()

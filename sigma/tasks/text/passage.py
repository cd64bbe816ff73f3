"""A passage with blanks: the blank syntax ("[___]", "{words}", "[...]"), `Passage`, and a fill shown back.

"[___]" is one unknown token per "_", "{words}" the tokens of those words (kept as the true ids), "[...]" a blank
whose length the model chooses (`sigma.tasks.text.lengths`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import torch
from torch import Tensor

from sigma.tasks.text.bpe import VOCAB_SIZE, decode, encode
from sigma.tasks.text.candidate import Candidate

# "[___]": three blank tokens; "[...]": a blank whose length the model chooses; "{words}": the tokens of those words
BLANK = re.compile(r"\[(_+)\]|\[(\.\.\.|…)\]|\{([^{}]*)\}")
HALF_MARKER = re.compile(r"\[\s*(_|\.\.\.|…)")  # how a "[___]" or "[...]" blank begins
MAX_LENGTH = 8  # the longest a "[...]" blank may be, unless the caller says otherwise
MAX_CHARS = 4000  # far above any block size; stops a huge paste before it reaches the tokenizer


def parse_template(text: str, vocab_size: int = VOCAB_SIZE) -> tuple[list[int], list[bool], list[int]]:
    """Token ids, known flags, and where each "[...]" blank sits (an index into the ids: its tokens go
    before that one) for text in the blank syntax; see `parse_blanks`."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    ids: list[int] = []
    known: list[bool] = []
    gaps: list[int] = []
    last = 0
    for m in BLANK.finditer(text):
        before = text[last : m.start()]
        _check_plain(before)
        if m.group(3) is not None and not m.group(3).strip():
            raise ValueError("an empty {} blanks nothing: put the words to blank inside it, as in {question}")
        if m.group(3) is not None and HALF_MARKER.search(m.group(3)):
            near = m.group(0)[:30].split("\n")[0]
            raise ValueError(f"the blank {near!r} holds a [___] or [...]: a {{words}} blank holds only words to hide")
        space = " " if before.endswith(" ") else ""
        piece = encode(before.removesuffix(space), vocab_size)
        ids += piece
        known += [True] * len(piece)
        if m.group(2):
            gaps.append(len(ids))
        else:
            blank = [0] * len(m.group(1)) if m.group(1) else encode(space + m.group(3), vocab_size)
            ids += blank
            known += [False] * len(blank)
        last = m.end()
    _check_plain(text[last:])
    piece = encode(text[last:], vocab_size)
    ids += piece
    known += [True] * len(piece)
    return ids, known, gaps


def _check_plain(plain: str) -> None:
    """Text outside every blank holds no brace and no half-written "[___]" or "[...]": each is a blank left open
    (or closed twice, or holding more than its marks); say so, never guess."""
    for brace, says in (("{", "has no closing }"), ("}", "closes nothing")):
        at = plain.find(brace)
        if at >= 0:
            near = plain[at : at + 20].split("\n")[0]
            raise ValueError(f"the {brace} of {near!r} {says}: write blanks as {{words}}, [___] or [...]")
    half = HALF_MARKER.search(plain)
    if half:
        near = plain[half.start() : half.start() + 20].split("\n")[0]
        raise ValueError(f"{near!r} is not a blank: write [___] (one _ a token) or [...], with nothing else inside")


def parse_blanks(text: str, block_size: int | None = None, vocab_size: int = VOCAB_SIZE) -> tuple[Tensor, Tensor]:
    """Tokens [T] and known mask [T] for text with blanks: "[___]" is one unknown token per "_", "{words}"
    the tokens of those words (kept as the true ids, so a fill can be compared with them; "[___]" holds 0).

    A space just before a blank joins the blank, because the tokenizer gives a word its leading space:
    "the {question}" blanks " question", and "the [_]" asks for one token that brings its own space. Left
    as a known token, that lone space would be a sequence the model never saw in training. A "[...]" blank
    has no length yet: `Passage` and `sigma.tasks.text.lengths` handle it.
    """
    ids, known, gaps = parse_template(text, vocab_size)
    if gaps:
        raise ValueError("a [...] blank has no length yet: give it one with [___], or let the model choose it")
    if not ids:
        raise ValueError("the text is empty: write some words and blanks such as 'To be, or [___] to be'")
    if block_size is not None and len(ids) > block_size:
        raise ValueError(f"the text is {len(ids)} tokens long, more than the model's block_size {block_size}")
    return torch.tensor(ids, dtype=torch.long), torch.tensor(known, dtype=torch.bool)


def show_fill(
    tokens: Tensor | list[int],
    known: Tensor | list[bool],
    vocab_size: int = VOCAB_SIZE,
    done: list[bool] | None = None,
) -> str:
    """Text with every filled-in run wrapped in [brackets], to see what the model wrote. Runs are decoded
    whole, so a character cut into several byte tokens (emoji, CJK) comes back intact. With `done` (a partial
    run), a position not yet settled shows as _ whatever its token holds, so a blank never shows its answer."""
    tokens = tokens.tolist() if isinstance(tokens, Tensor) else list(tokens)
    known = known.tolist() if isinstance(known, Tensor) else list(known)
    written = [True] * len(tokens) if done is None else [bool(d) for d in done]
    out = []
    for start, end in _runs(known):
        if known[start]:
            out.append(decode(tokens[start:end], vocab_size))
            continue
        inner = [
            decode(tokens[a:b], vocab_size) if written[a] else "_" * (b - a)
            for a, b in _runs(written[start:end], offset=start)
        ]
        out.append("[" + "".join(inner) + "]")
    return "".join(out)


def _runs(flags: list[bool], offset: int = 0) -> list[tuple[int, int]]:
    """_runs([True, True, False, True]) -> [(0, 2), (2, 3), (3, 4)]: spans of equal flags."""
    spans, start = [], 0
    for i in range(1, len(flags) + 1):
        if i == len(flags) or flags[i] != flags[start]:
            spans.append((offset + start, offset + i))
            start = i
    return spans


@dataclass(frozen=True)
class Passage:
    """Token ids and which of them are known; the unknown ones are the blanks to fill. `gaps` are where
    "[...]" blanks of unknown length sit (their tokens go before ids[gap]), up to `max_length` tokens each.
    Resolved for a model that knows the pad, they become the spans in `slots` (`sigma.tasks.text.pads`); for
    one that does not, `tried` holds every length the model tried, best first. `vocab_size` is the model's."""

    ids: tuple[int, ...]
    known: tuple[bool, ...]
    gaps: tuple[int, ...] = ()
    max_length: int = MAX_LENGTH
    tried: tuple[Candidate, ...] = ()  # every choice of "[...]" lengths, best first
    slots: tuple[tuple[int, int], ...] = ()  # [start, end) of each "[...]" blank's slots, once resolved
    vocab_size: int = VOCAB_SIZE
    cut: bool = False  # the slots are cut to the lengths the model drew (`pads.draw_lengths`): no pad inside

    def __post_init__(self) -> None:
        for name in ("ids", "known", "gaps", "tried", "slots"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


def blank_syntax(passage: Passage) -> str:
    """The passage written back in the blank syntax that `parse_passage` reads: blanked words as {words},
    blanks with no original word (typed [___], or a canvas) as [___], blanks of unknown length as [...].
    A space in front of a blank is written outside it, where the parser takes it from."""
    out, ids, known = [], passage.ids, passage.known
    i = 0
    while i <= len(ids):
        out += [" [...]" if i else "[...]"] * passage.gaps.count(i)
        if i == len(ids):
            break
        j = i + 1
        while j < len(ids) and j not in passage.gaps and _same_kind(passage, i, j):
            j += 1
        piece = decode(list(ids[i:j]))
        if known[i]:
            out.append(piece)
        elif ids[i] == 0:
            out.append(" [" + "_" * (j - i) + "]")
        else:
            space = " " if piece.startswith(" ") else ""
            out.append(space + "{" + piece.removeprefix(space) + "}")
        i = j
    return "".join(out)


def _same_kind(passage: Passage, i: int, j: int) -> bool:
    """Whether tokens i and j are written alike: both known, both blanked words, or both [___] blanks."""
    if passage.known[i] or passage.known[j]:
        return passage.known[i] == passage.known[j]
    return (passage.ids[i] == 0) == (passage.ids[j] == 0)


def check_characters(text: str) -> None:
    """Refuse what is not a passage: non-text, a huge paste, control characters."""
    if not isinstance(text, str):
        raise ValueError(f"the text must be a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the text has {len(text)} characters; the limit is {MAX_CHARS}")
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t":
            raise ValueError(f"the text holds a control character (U+{ord(ch):04X}) at position {i}; remove it")


def check_length(n: int, block_size: int, what: str = "text") -> None:
    """Refuse a text (or a canvas) longer than the model reads, naming which."""
    if n > block_size:
        raise ValueError(f"The {what} is {n} tokens long; the model reads at most {block_size}. Shorten it.")


def plain_newlines(text: str) -> str:
    """Windows (CRLF) and old Mac (CR) line ends as the corpus has them: LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


def parse_passage(text: str, block_size: int, max_length: int = MAX_LENGTH) -> Passage:
    """A passage in the blank syntax as token ids and known flags; ValueError names what is wrong."""
    text = plain_newlines(text)
    check_characters(text)
    if not text.strip():
        raise ValueError("The text is empty: type a passage, or pick an example.")
    if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 32:
        raise ValueError(f"The longest [...] blank must be a whole number of tokens from 1 to 32, not {max_length!r}.")
    ids, known, gaps = parse_template(text)
    check_length(len(ids) + len(gaps), block_size)
    return Passage(ids, known, gaps, max_length)

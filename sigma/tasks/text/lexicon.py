"""Real words: the word list of the training plays, and the check that verified tries of a fill use.

A text fill cannot be right or wrong the way a maze path is, but it can be made of words that do not exist. The
words a fill touches (whole: letters glued onto a known word make one word with it) are looked up in the words
of the plays the model was trained on (`WORDS_FILE`, written by `python -m train words`); a fill that uses only
such words is accepted (`TextTask.accept`), so several tries in one batch keep the likeliest real-word fill.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sigma.tasks.text.bpe import VOCAB_SIZE, decode

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")  # "burnish'd", "o'er"; a leading or trailing quote is not a letter
WORDS_FILE = Path(__file__).with_name("words.txt")


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Every word of the training plays, lower-cased."""
    return frozenset(WORDS_FILE.read_text(encoding="utf-8").split())


def fill_spans(tokens: list[int], known: list[bool], vocab_size: int = VOCAB_SIZE) -> tuple[str, list[tuple[int, int]]]:
    """The completed text, and the character span of every filled run in it."""
    text, spans, start = "", [], 0
    for i in range(1, len(tokens) + 1):
        if i == len(tokens) or known[i] != known[start]:
            piece = decode(tokens[start:i], vocab_size)
            if not known[start]:
                spans.append((len(text), len(text) + len(piece)))
            text += piece
            start = i
    return text, spans


def filled_words(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The words of `text` that overlap a filled span, whole: a fill that glues letters onto a known word
    is judged by the word it makes."""
    return [m.group() for m in WORD.finditer(text) if any(m.start() < b and a < m.end() for a, b in spans)]


def unknown_words(tokens: list[int], known: list[bool], vocab_size: int = VOCAB_SIZE) -> list[str]:
    """The words the filled runs touch that are not words of the training plays, in order."""
    words = known_words()
    return [w for w in filled_words(*fill_spans(tokens, known, vocab_size)) if w.lower() not in words]


def only_real_words(tokens: list[int], known: list[bool], vocab_size: int = VOCAB_SIZE) -> bool:
    """Whether every word the filled runs touch is a word of the training plays."""
    return not unknown_words(tokens, known, vocab_size)

"""Write the word list of the training plays (sigma/tasks/text/words.txt), which verified text tries check."""

from __future__ import annotations

import argparse

from sigma.tasks.text import load_plays, split_plays
from sigma.tasks.text.lexicon import WORD, WORDS_FILE


def training_words() -> list[str]:
    """Every word of the training plays (never the held-out ones), lower-cased and sorted."""
    train_names, _ = split_plays()
    plays = load_plays()
    return sorted({w.lower() for name in train_names for w in WORD.findall(plays[name])})


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=str(WORDS_FILE))


def run(args: argparse.Namespace) -> None:
    words = training_words()
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(words) + "\n")
    print(f"{len(words):,} words -> {args.out}")

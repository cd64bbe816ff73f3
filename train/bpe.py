"""`python -m train.bpe [SIZE ...]`: train the byte-level BPEs the text task ships, on the training plays.

Counts pairs over the distinct pre-split chunks weighted by frequency and updates only the chunks a merge
touches, so a few MB train in seconds. Deterministic: the vocabularies are nested.
"""

from __future__ import annotations

import base64
import sys
from collections import Counter
from pathlib import Path

import regex

from sigma.tasks.text.bpe import SPLIT_PATTERN, VOCAB_SIZE, ranks_file
from sigma.tasks.text.corpus import load_plays, split_plays


def train_bpe(text: str, vocab_size: int) -> dict[bytes, int]:
    """Byte-level BPE ranks for `text`: 256 bytes, then the most frequent adjacent pair merged, repeatedly.

    Counts pairs over the distinct pre-split chunks weighted by frequency and updates only the chunks a
    merge touches, so a few MB train in seconds. Ties break on the smaller pair of ids: deterministic.
    """
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (one token per byte), got {vocab_size}")
    chunks = Counter(m.encode("utf-8") for m in regex.findall(SPLIT_PATTERN, text))
    words = [list(chunk) for chunk in chunks]
    freqs = list(chunks.values())
    pieces = [bytes([b]) for b in range(256)]
    pairs: Counter = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for w, (ids, f) in enumerate(zip(words, freqs, strict=True)):
        for pair in zip(ids, ids[1:], strict=False):
            pairs[pair] += f
            where.setdefault(pair, set()).add(w)
    while len(pieces) < vocab_size and pairs:
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        new = len(pieces)
        pieces.append(pieces[best[0]] + pieces[best[1]])
        for w in where.pop(best, ()):
            ids, f = words[w], freqs[w]
            for pair in zip(ids, ids[1:], strict=False):
                pairs[pair] -= f
                if pairs[pair] <= 0:
                    del pairs[pair]
            merged, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                    merged.append(new)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            words[w] = merged
            for pair in zip(merged, merged[1:], strict=False):
                pairs[pair] += f
                where.setdefault(pair, set()).add(w)
    return {piece: rank for rank, piece in enumerate(pieces)}


def write_ranks(ranks: dict[bytes, int], path: Path) -> None:
    """tiktoken's rank format: base64 token and rank per line."""
    lines = (f"{base64.b64encode(tok).decode()} {rank}" for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1]))
    path.write_text("\n".join(lines) + "\n")


def main(sizes: list[int]) -> None:
    train_names, _ = split_plays()
    plays = load_plays()
    for size in sizes or [VOCAB_SIZE]:
        write_ranks(train_bpe("".join(plays[n] for n in train_names), size), ranks_file(size))
        print(f"wrote {ranks_file(size).name} ({size} tokens)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])

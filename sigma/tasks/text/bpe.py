"""The tokenizer: byte-level BPEs of 1024, 4096 and 8192 tokens as `tiktoken.Encoding`s, built offline.

They were trained on the training plays of the corpus (`python -m train.bpe`) and ship as
`sigma/tasks/text/shakespeare_bpe*.tiktoken` (tiktoken's own rank format), so nothing is downloaded. The 256
single bytes are part of every vocabulary, so every Unicode string encodes and decodes back exactly; merges make
common English cheap. Training is deterministic, so the vocabularies are nested: each larger one begins with the
smaller one's merges. `VOCAB_SIZE` is the shipped model's; every function takes another `vocab_size`.

A model may know one token more than its BPE: the pad (`PAD`, the id after the BPE's last token), "nothing",
which fills a "[...]" blank after its words (`sigma.tasks.text.pads`). It decodes to "", and a model's
vocabulary of BPE + 1 tokens reads the same BPE (`bpe_size`).
"""

from __future__ import annotations

import base64
import unicodedata
from functools import lru_cache
from pathlib import Path

import tiktoken
from torch import Tensor

SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
RANKS_FILE = Path(__file__).with_name("shakespeare_bpe.tiktoken")
VOCAB_SIZE = 8192  # the shipped model's vocabulary
VOCAB_SIZES = (1024, 4096, 8192)  # the vocabularies compared in the tokenizer A/B
PAD = VOCAB_SIZE  # "nothing" for the shipped BPE: the id after its last token


def bpe_size(vocab_size: int) -> int:
    """The BPE a model of `vocab_size` tokens reads: its own size, or one less when the last token is the pad."""
    return vocab_size - 1 if vocab_size - 1 in VOCAB_SIZES else vocab_size


def read_ranks(path: Path) -> dict[bytes, int]:
    ranks = {}
    for line in path.read_text().splitlines():
        tok, rank = line.split()
        ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def make_encoding(ranks: dict[bytes, int], name: str = "shakespeare-bpe") -> tiktoken.Encoding:
    return tiktoken.Encoding(name, pat_str=SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={})


def ranks_file(vocab_size: int) -> Path:
    """Where the BPE of `vocab_size` tokens lives; the shipped one keeps its historical name."""
    return RANKS_FILE if vocab_size == 1024 else RANKS_FILE.with_name(f"shakespeare_bpe_{vocab_size}.tiktoken")


@lru_cache(maxsize=4)
def get_encoding(vocab_size: int = VOCAB_SIZE) -> tiktoken.Encoding:
    """The Shakespeare BPE of `vocab_size` tokens (default: the shipped model's), or of a model with the pad."""
    path = ranks_file(bpe_size(vocab_size))
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing: build it with `python -m train.bpe {vocab_size}`")
    return make_encoding(read_ranks(path), name=f"shakespeare-bpe-{bpe_size(vocab_size)}")


def encode(text: str, vocab_size: int = VOCAB_SIZE) -> list[int]:
    """Token ids of `text`; exact for every string of Unicode scalar values."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"text holds a lone surrogate at index {err.start}: it is not valid Unicode") from None
    return get_encoding(vocab_size).encode_ordinary(text)


def decode(ids: list[int] | Tensor, vocab_size: int = VOCAB_SIZE) -> str:
    """Text of token ids; bytes that do not form UTF-8 (a cut multi-byte character) show as U+FFFD, and pads
    (the id after the BPE's last token) as nothing."""
    ids = ids.tolist() if isinstance(ids, Tensor) else list(ids)
    enc = get_encoding(vocab_size)
    ids = [i for i in ids if i != enc.n_vocab]
    bad = [i for i in ids if not 0 <= i < enc.n_vocab]
    if bad:
        raise ValueError(f"token id {bad[0]} is outside the vocabulary [0, {enc.n_vocab})")
    return enc.decode(ids)


def readable_pieces(ids: list[int], keep: list[bool]) -> list[str]:
    """Each token as `piece` shows it, except that a character cut across consecutive tokens of `keep` (the
    text a person typed) shows whole on the first of them and the others show nothing: "Éléonore" reads as
    typed, not as hex bytes. Bytes that never make a character stay hex."""
    out = [piece(t) for t in ids]
    enc = get_encoding()
    i = 0
    while i < len(ids):
        if keep[i] and out[i].startswith("‹"):
            data = b""
            for j in range(i, min(i + 4, len(ids))):  # a character is at most 4 bytes: at most 4 tokens
                if not keep[j] or ids[j] == PAD:
                    break
                data += enc.decode_single_token_bytes(ids[j])
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if not _has_control(text):
                    out[i : j + 1] = [text] + [""] * (j - i)
                    i = j
                break
        i += 1
    return out


def _has_control(text: str) -> bool:
    """Whether text holds a control character other than a line break or a tab (shown as hex bytes)."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text)


def piece(token: int) -> str:
    """A token as readable text; part of a character, or a control byte, shows as hex bytes, the pad as ∅."""
    if token == PAD:
        return "∅"
    text = decode([token])
    if "\ufffd" in text or _has_control(text):
        return "‹" + get_encoding().decode_single_token_bytes(token).hex() + "›"
    return text

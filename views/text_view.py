"""The text tab's passage (token ids and which are blank), its editing, and its drawing.

Blank syntax, for typing and for the API, is `sigma.text.parse_blanks`'s: "[___]" is three blank tokens,
"{some words}" blanks the tokens of those words, and a space just before a blank belongs to it. A canvas
is N blank tokens with words pinned at chosen positions.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import torch

from sigma import SigmaGPT
from sigma import text as tx
from sigma.sampling import conditional_density
from views import status
from views.runs import Frame, Settings, frames

MAX_CHARS = 4000  # far above any block size; stops a huge paste before it reaches the tokenizer

# Laid out as the corpus is (speaker, then verse lines): a passage of prose with no line breaks looks to the
# model as if the missing line breaks were in the blanks. The last passage is from a play held out of training.
EXAMPLES = [
    "HAMLET:\nTo be, or not to be: that is the {question}:\nWhether 'tis nobler in the mind to {suffer}\n"
    "The slings and arrows of outrageous {fortune},\nOr to take arms against a sea of troubles,",
    "ROMEO:\nBut, soft! what light through yonder [___] breaks?\nIt is the east, and Juliet is the [__].\n"
    "Arise, fair sun, and kill the envious moon,",
    "JAQUES:\nAll the world's a {stage},\nAnd all the men and women merely {players}:\n"
    "They have their exits and their entrances;\nAnd one man in his time plays many parts,",
    "ANTONY:\nFriends, Romans, countrymen, lend me your {ears};\nI come to {bury} Caesar, not to praise him.\n"
    "The evil that men do lives after them;\nThe good is oft {interred with their bones};",
]


@dataclass
class Passage:
    ids: list[int]
    known: list[bool]

    def as_state(self) -> dict:
        return {"ids": self.ids, "known": self.known}

    @staticmethod
    def from_state(state: dict | None) -> Passage:
        if not state or not state.get("ids"):
            raise ValueError("There is no passage yet: type some text, pick an example, or make a canvas.")
        return Passage(list(state["ids"]), list(state["known"]))


def check_characters(text: str) -> None:
    if not isinstance(text, str):
        raise ValueError(f"the text must be a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the text has {len(text)} characters; the limit is {MAX_CHARS}")
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t":
            raise ValueError(f"the text holds a control character (U+{ord(ch):04X}) at position {i}; remove it")


def parse(text: str, block_size: int) -> Passage:
    """Token ids and known flags for text in the blank syntax; ValueError names what is wrong."""
    check_characters(text)
    if not text.strip():
        raise ValueError("The text is empty: type a passage, or pick an example.")
    tokens, known = tx.parse_blanks(text)
    ids, known = tokens.tolist(), known.tolist()
    _check_length(len(ids), block_size)
    return Passage(ids, known)


def canvas(n: int, pins: str, block_size: int) -> Passage:
    """N blank tokens with words pinned: `pins` holds lines "position: words" (0-based positions)."""
    n = int(n)
    _check_length(n, block_size)
    if n < 1:
        raise ValueError("A canvas needs at least one token.")
    check_characters(pins or "")
    ids, known = [0] * n, [False] * n
    for line in (pins or "").splitlines():
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*(\d+)\s*:(.*)", line)
        if not m:
            raise ValueError(f"cannot read the pin {line.strip()!r}: write one per line as 'position: words'")
        at, words = int(m.group(1)), tx.encode(m.group(2).rstrip())
        if at + len(words) > n:
            raise ValueError(f"the pin {line.strip()!r} runs past the end of a {n}-token canvas")
        ids[at : at + len(words)] = words
        known[at : at + len(words)] = [True] * len(words)
    return Passage(ids, known)


def _check_length(n: int, block_size: int) -> None:
    if n > block_size:
        raise ValueError(f"The text is {n} tokens long; the model reads at most {block_size}. Shorten it.")


def toggle(passage: Passage, index: int) -> Passage:
    """Blank a known token or bring a blank back (a blank from "[___]" has no original: it stays blank)."""
    if 0 <= index < len(passage.ids):
        known = list(passage.known)
        known[index] = not known[index]
        return Passage(passage.ids, known)
    return passage


def notes(passage: Passage) -> str:
    """What a user should know about this passage before filling it, in one line ('' if nothing)."""
    blanks = passage.known.count(False)
    if blanks == 0:
        return "Nothing is blank: click tokens to blank them, or write [___] or {words} in the text."
    if blanks == len(passage.ids):
        return "Every token is blank: the model will write freely."
    if any("\ufffd" in tx.decode([t]) for t, k in zip(passage.ids, passage.known, strict=True) if k):
        return "Some characters (emoji, CJK, …) split into byte tokens the model rarely saw; expect odd fills."
    return ""


def run(model: SigmaGPT, passage: Passage, settings: Settings):
    """The frames of filling a passage's blanks."""
    _check_length(len(passage.ids), model.config.block_size)
    if all(passage.known):
        raise ValueError(notes(passage))
    tokens = torch.tensor(passage.ids, dtype=torch.long, device=model.device)
    known = torch.tensor(passage.known, dtype=torch.bool, device=model.device)
    return frames(model, tokens, known, settings)


def final_text(frame: Frame) -> str:
    return tx.decode(frame.tokens)


def marked_text(frame: Frame) -> str:
    """The text with every filled run in [brackets]."""
    return tx.show_fill(torch.tensor(frame.tokens), torch.tensor(frame.known))


def piece(token: int) -> str:
    """A token as readable text; part of a character, or a control byte, shows as hex bytes."""
    text = tx.decode([token])
    if "\ufffd" in text or any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        return "‹" + tx.get_encoding().decode_single_token_bytes(token).hex() + "›"
    return text


def tokens_html(passage: Passage, frame: Frame | None = None) -> str:
    """Tokens as spans carrying data-i for clicks and the same state classes as the maze board."""
    out = []
    for i, tok in enumerate(passage.ids):
        classes, inner = _state(passage, frame, i, tok)
        title = f"token {i}"
        if frame is not None and frame.rank[i]:
            title += f", filled {frame.rank[i]}th"
            inner += f'<sup class="rank">{frame.rank[i]}</sup>'
        out.append(f'<span class="{" ".join(classes)}" data-i="{i}" title="{title}">{inner}</span>')
    return f'<div class="passage">{"".join(out)}</div>'


def _show(token: int) -> str:
    return html.escape(piece(token)).replace("\n", "↵<br>")


BOX = "\u2003"  # an em space: a blank's box keeps a word's width


def _state(passage: Passage, frame: Frame | None, i: int, tok: int) -> tuple[list[str], str]:
    """Classes and inner HTML of token i: blanks show as boxes until the model fills them."""
    if frame is None or frame.known[i]:
        return (["tok"], _show(tok)) if passage.known[i] else (["tok", "blank"], BOX)
    if i == frame.rejected:
        struck = f'<s class="was">{_show(frame.rejected_token)}</s>'
        if frame.replacement is not None:
            return ["tok", "rejected", "replaced"], struck + _show(frame.replacement)
        return ["tok", "rejected"], struck
    if i in frame.accepted:
        return ["tok", "accepted"], _show(frame.tokens[i])
    if i in frame.drafted:
        return ["tok", "drafted"], _show(frame.drafted[i])
    if frame.done[i]:
        return ["tok", "settled"], _show(frame.tokens[i])
    return ["tok", "blank"], BOX


def density(model: SigmaGPT, passage: Passage, frame: Frame | None, k: int) -> tuple[list[str], list[list]]:
    """Top-k (token, probability) of every unknown position from one model pass, given the known tokens
    (and, while a run is scrubbed, the ones settled so far)."""
    _check_length(len(passage.ids), model.config.block_size)
    ids, known = (frame.tokens, frame.done) if frame is not None else (passage.ids, passage.known)
    if all(known):
        raise ValueError("Nothing is unknown, so there is nothing to look at: blank some tokens first.")
    device = model.device
    probs = conditional_density(model, torch.tensor([ids], device=device), torch.tensor([known], device=device))[0]
    unknown = [i for i, k_ in enumerate(known) if not k_]
    values, indices = probs[unknown].topk(min(k, probs.shape[-1]), dim=-1)
    pairs = zip(values.tolist(), indices.tolist(), strict=True)
    top = [[(piece(t).replace("\n", "↵"), round(p, 4)) for p, t in zip(ps, ts, strict=True)] for ps, ts in pairs]
    return [str(i) for i in unknown], top


def render(state: dict, frame: Frame) -> tuple[str, str, str]:
    """Tokens, progress line and the marked-up text of one frame."""
    said = ""
    if frame.finished and frame.model_calls:
        said = f"Done: {frame.tokens_done} tokens in {frame.model_calls} model calls."
    return tokens_html(Passage.from_state(state), frame), status.progress(frame, said, "good"), marked_text(frame)

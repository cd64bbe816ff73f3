"""The text tab's passage editing and drawing. The passage itself (`sigma.tasks.text.Passage`: token ids
and which are blank) comes from the text task.

Blank syntax, for typing and for the API, is `sigma.tasks.text.parse_blanks`'s: "[___]" is three blank
tokens, "{words}" blanks the tokens of those words, and a space just before a blank belongs to it. A canvas
is N blank tokens with words pinned at chosen positions.
"""

from __future__ import annotations

import html
import re

import gradio as gr
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw

from sigma.task import top_choices
from sigma.tasks import text as tx
from sigma.tasks.text import Passage, piece
from sigma.tasks.text.lengths import combinations
from sigma.tasks.text.lexicon import fill_spans
from sigma.tasks.text.pads import LENGTH_DRAWS, knows_pads, marks
from sigma.tries import Tries
from sigma.words import ordinal, plural
from views import charts, status
from views import gif as g
from views.models import TEXT
from views.outputs import Edited, reports
from views.runs import Frame
from views.view import TaskView


def canvas(n: int, pins: str, block_size: int) -> Passage:
    """N blank tokens with words pinned: `pins` holds lines "position: words" (0-based positions)."""
    n = int(n)
    tx.check_length(n, block_size, what="canvas")
    if n < 1:
        raise ValueError("A canvas needs at least one token.")
    pins = tx.plain_newlines(pins or "")
    tx.check_characters(pins)
    ids, known = [0] * n, [False] * n
    for line in pins.splitlines():
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*(\d+)\s*:(.*)", line)
        if not m:
            raise ValueError(f"cannot read the pin {line.strip()!r}: write one per line as 'position: words'")
        at, text = int(m.group(1)), m.group(2).strip()
        if not text:
            raise ValueError(f"the pin {line.strip()!r} has no words: write them after the colon, as in '5: crown'")
        words = tx.encode(text if at == 0 else " " + text)  # a word mid-passage brings its own space
        if at + len(words) > n:
            raise ValueError(f"the pin {line.strip()!r} runs past the end of a {n}-token canvas")
        if any(known[at : at + len(words)]):
            raise ValueError(
                f"the pin {line.strip()!r} ({plural(len(words), 'token')} from position {at}) overlaps an earlier pin; "
                "move it to a later position"
            )
        ids[at : at + len(words)] = words
        known[at : at + len(words)] = [True] * len(words)
    return Passage(ids, known)


NO_ORIGINAL = "That blank was typed as [___] or made on a canvas: it has no original word to bring back."


WHITESPACE_ONLY = "A line break or a space cannot be blanked on its own (a blank is written as {words}): blank a word."


def toggle(passage: Passage, index: int) -> Passage:
    """Blank a known token or bring a blank back. A blank typed as "[___]" or made on a canvas has no
    original token (it holds id 0, a control byte no accepted text contains): it stays blank. A token of
    whitespace only stays known: "{" + line break + "}" would not read back as a blank."""
    if not 0 <= index < len(passage.ids):
        return passage
    if passage.known[index] and not piece(passage.ids[index]).strip():
        return passage
    if passage.known[index] or passage.ids[index] != 0:
        known = list(passage.known)
        known[index] = not known[index]
        return Passage(passage.ids, tuple(known))
    return passage


def refusal(passage: Passage) -> str | None:
    """Why Fill cannot start on this passage, known before any model work, or None: the task's problem, or too
    many combinations of "[...]" lengths for a model that ranks them."""
    if problem := tx.TASK.problem(passage):
        return problem
    if passage.gaps and not knows_pads(vocab_size()):
        try:
            combinations(passage, block_size())
        except ValueError as e:
            return str(e)
    return None


def lengths(passage: Passage) -> str:
    """How many tokens a "[...]" blank of the passage may hold, in words: "1 to 8 tokens", or "1 token"."""
    return "1 token" if passage.max_length == 1 else f"1 to {passage.max_length} tokens"


def notes(passage: Passage) -> str:
    """What a user should know about a passage Fill can start on, in one line ('' if nothing)."""
    if passage.gaps and passage.max_length == 1:
        return "Each [...] blank gets 1 token (the longest [...] blank is 1)."
    if passage.gaps and knows_pads(vocab_size()):
        return (
            f"Each [...] blank gets {lengths(passage)}: the median length of {LENGTH_DRAWS} draws of "
            "the model, then the fill."
        )
    if passage.gaps:
        return (
            f"The model will fill each [...] blank at every length from {lengths(passage)} "
            "and keep the one it finds likeliest."
        )
    blanks = passage.known.count(False)
    if blanks == len(passage.ids):
        return "Every token is blank: the model will write freely."
    if any("\ufffd" in tx.decode([t]) for t, k in zip(passage.ids, passage.known, strict=True) if k):
        return "Some characters (emoji, CJK, …) split into byte tokens the model rarely saw; expect odd fills."
    return ""


def tokens_html(passage: Passage, frame: Frame | None = None, order_map: bool = False) -> str:
    """Tokens as spans carrying data-i for clicks and the same state classes as the maze board."""
    out = []
    gap = f'<span class="tok blank gap" title="a blank of {lengths(passage)}">[…]</span>'
    hidden, typed = marks(passage), tx.readable_pieces(list(passage.ids), list(passage.known))
    for i, tok in enumerate(passage.ids):
        out += [gap] * passage.gaps.count(i)
        if i in hidden:
            continue
        classes, inner = _state(passage, frame, i, tok, typed[i])
        title = f"token {i}"
        if frame is not None and frame.rank[i]:
            title += f", filled {ordinal(frame.rank[i])}, at step {frame.settled_step[i]}"
            inner += f'<sup class="rank">{frame.rank[i]}</sup>'
        colour = status.step_colour(frame, i) if order_map and frame is not None else None
        style = f' style="background:{colour};color:#111"' if colour else ""
        out.append(f'<span class="{" ".join(classes)}" data-i="{i}"{style} title="{title}">{inner}</span>')
    out += [gap] * passage.gaps.count(len(passage.ids))
    key = status.order_key(frame) if order_map and frame is not None else ""
    strip = tries_strip(passage, frame.tries) if frame is not None and frame.tries is not None else ""
    return f'<div class="passage">{"".join(out)}</div>{key}{strip}'


def tries_strip(passage: Passage, tries: Tries) -> str:
    """Every try of a run as the words it wrote into the blanks (views.status.tries_strip)."""
    bodies = []
    for tokens in tries.tokens:
        text, spans = fill_spans(tokens, list(passage.known), passage.vocab_size)
        fills = " · ".join(text[a:b].strip() or "␣" for a, b in spans)
        bodies.append(f'<div class="fills">{html.escape(fills)}</div>')
    return status.tries_strip(tries, bodies)


def _show(token: int) -> str:
    return _html(tx.piece(token))


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "↵<br>")


BOX = "\u2003"  # an em space: a blank's box keeps a word's width


def _state(passage: Passage, frame: Frame | None, i: int, tok: int, typed: str) -> tuple[list[str], str]:
    """Classes and inner HTML of token i (`typed`: how a known token reads, `readable_pieces`): blanks show as
    boxes until the model fills them."""
    if frame is None or frame.known[i]:
        return (["tok"], _html(typed)) if passage.known[i] else (["tok", "blank"], BOX)
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


def density_figure(passage: Passage, probs: torch.Tensor, known: list[bool], k: int) -> go.Figure:
    """Top-k tokens of every unknown position from one model pass."""
    top = top_choices(tx.TASK, probs, known, k)
    return charts.top_k_heatmap([str(i) for i, _ in top], [t for _, t in top])


# -- the passage as a GIF frame (views.gif) --------------------------------------------------------


# state -> (box fill, letters, outline); None: none
TOKEN_STYLE = {
    "known": (None, g.INK, None),
    "blank": (g.BLANK, g.INK, None),
    "drafted": (g.DRAFT_TEXT_FILL, g.DRAFT_TEXT, g.DRAFTED),
    "accepted": (g.ACCEPTED, g.WHITE, None),
    "rejected": (None, g.REJECTED, g.REJECTED),  # the thrown-back draft, struck through
    "replaced": (g.REPLACED, g.WHITE, None),
    "settled": (g.SETTLED, g.INK, None),
}
NEWLINE_W = 12  # the drawn ↵ that ends a line (the bundled font has no glyph for it)


def _pieces(passage: Passage, frame: Frame, i: int) -> list[tuple[str, str]]:
    """Token i as (text, style) boxes: a rejection shows the struck draft, then what settled there."""
    state = g.position_state(frame, i)
    if state == "blank":
        return [("", "blank")]
    if state in ("rejected", "replaced"):
        struck = [(piece(frame.rejected_token), "rejected")] if frame.rejected_token is not None else []
        return struck + ([(piece(frame.replacement), "replaced")] if state == "replaced" else [])
    token = passage.ids[i] if state == "known" else frame.drafted[i] if state == "drafted" else frame.tokens[i]
    return [(piece(token), state)]


def gif_frame(passage: Passage, frame: Frame) -> Image.Image:
    """The passage as wrapped token boxes coloured by state; a newline in a token breaks the line."""
    font = g.font(16)
    blank_w = int(font.getlength("M") * 1.6)  # a blank keeps a short word's width, like the page's box
    right = g.TEXT_W - g.MARGIN

    def size(line: str, style: str, pad: int) -> int:
        return (blank_w if style == "blank" else int(font.getlength(line))) + 2 * pad

    boxes = []  # (x, y, width, padding, text, style, newline)
    x, y = g.MARGIN, g.MARGIN + g.CAPTION_H
    hidden = marks(passage)
    for i in range(len(passage.ids)):
        if i in hidden:
            continue
        for text, style in _pieces(passage, frame, i):
            pad = 0 if style == "known" else g.PAD  # given text flows as text; a box gets room around its letters
            lines = text.split("\n")
            for n, line in enumerate(lines):
                newline = n < len(lines) - 1
                width = size(line, style, pad) + (NEWLINE_W if newline else 0)
                if x + width > right and x > g.MARGIN:
                    x, y = g.MARGIN, y + g.LINE_H
                    if style == "known":  # no given space opens a line
                        line = line.lstrip(" ")
                        width = size(line, style, pad) + (NEWLINE_W if newline else 0)
                boxes.append((x, y, width, pad, line, style, newline))
                x += width + (pad > 0)
                if newline:
                    x, y = g.MARGIN, y + g.LINE_H
    image, draw = g.canvas(g.TEXT_W, y + g.LINE_H + g.MARGIN, frame)
    for x, y, width, pad, line, style, newline in boxes:
        fill, ink, outline = TOKEN_STYLE[style]
        box = (x, y + 2, x + width - 1, y + g.LINE_H - 5)
        if fill:
            draw.rounded_rectangle(box, radius=3, fill=fill)
        if outline and style == "drafted":
            g.dashed(draw, box, outline)
        elif outline:
            draw.rounded_rectangle(box, radius=3, outline=outline, width=2)
        mid = (box[1] + box[3] + 1) // 2
        draw.text((x + pad, mid), line, fill=ink, font=font, anchor="lm")
        if style == "rejected":
            draw.line((x + pad, mid, x + width - pad - 1, mid), fill=g.REJECTED, width=2)
        if newline:
            _return_arrow(draw, (x + width - pad - NEWLINE_W + 2, mid), ink)
    return image


def _return_arrow(draw: ImageDraw.ImageDraw, at: tuple[int, int], colour: str) -> None:
    """A small ↵ at the end of a token that ends a line."""
    x, y = at
    draw.line((x + 8, y - 5, x + 8, y + 2, x + 1, y + 2), fill=colour, width=1)
    draw.line((x + 1, y + 2, x + 4, y - 1), fill=colour, width=1)
    draw.line((x + 1, y + 2, x + 4, y + 5), fill=colour, width=1)


# -- the tab's editing handlers (views.outputs) ---------------------------------------------------


def vocab_size() -> int:
    """The loaded text model's vocabulary (the tokenizer's when none is loaded)."""
    model = TEXT.get()
    return model.config.vocab_size if model is not None else tx.VOCAB_SIZE


def block_size() -> int:
    """The loaded text model's block size (128 when none is loaded)."""
    model = TEXT.get()
    return model.config.block_size if model is not None else 128


def _passage_outputs(passage: Passage, note: str = "") -> Edited:
    refused = refusal(passage)
    note = note or refused or notes(passage)
    line = status.message(note, "fair") if note else status.message("Ready: press Fill.", "info")
    return Edited(passage, tokens_html(passage), line, gr.update(interactive=refused is None))


@reports(Edited)
def on_edit(text: str, max_length: float = tx.MAX_LENGTH) -> Edited:
    """The passage as typed, tokenized and drawn; Fill works only when there is something to fill."""
    if max_length is None or float(max_length) != int(max_length):
        raise ValueError(f"The longest [...] blank must be a whole number of tokens, got {str(max_length)[:40]!r}.")
    return _passage_outputs(tx.parse_passage(text, block_size(), int(max_length)))


@reports(Edited)
def on_canvas(n: float, pins: str) -> Edited:
    """An empty canvas with pinned words, written back into the passage box."""
    if n is None or float(n) != int(n):
        raise ValueError(f"The canvas size must be a whole number of tokens, got {n!r}.")
    made = canvas(int(n), pins, block_size())
    return _passage_outputs(made)._replace(source=tx.blank_syntax(made))


@reports(Edited)
def on_click(passage: Passage | None, evt: gr.EventData) -> Edited:
    """A click on a token blanks it or brings it back, written back into the passage box."""
    if passage is None:
        raise ValueError("There is no passage yet: type some text, pick an example, or make a canvas.")
    index = int(evt.index)
    toggled = toggle(passage, index)
    note = ""
    if toggled == passage and 0 <= index < len(passage.ids):
        note = WHITESPACE_ONLY if passage.known[index] else NO_ORIGINAL
    return _passage_outputs(toggled, note)._replace(source=tx.blank_syntax(toggled))


# the colour key under the tab (status.legend)
LEGEND = [
    ("given-text", "the words you kept"),
    *status.RUN_ITEMS,
    ("settled", "filled in an earlier step (the small number is its fill rank)"),
    ("blank", "still blank"),
]


VIEW = TaskView(tx.TASK, tokens_html, density_figure, run_label="Fill", gif_frame=gif_frame, legend=tuple(LEGEND))

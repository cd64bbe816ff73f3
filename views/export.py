"""Take a run away: its events as JSON and its frames as an animated GIF, to keep, share or replay offline.

The JSON holds exactly the dicts the API streams (`views.api`), so a saved run and a live client read the
same. The GIF is drawn here with Pillow, in the page's colour language (assets/studio.css), so that it plays
anywhere an image does: a maze as a grid of cells, a passage as boxed tokens, any other task as a strip of
positions. `write` puts both in a folder for a download button.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from sigma.task import Task
from sigma.tasks import get
from sigma.tasks import maze as mz
from sigma.tasks.text import Passage, piece
from views.api import finish_json, step_json
from views.maze_view import path_classes
from views.runs import Frame

# -- colours, as in assets/studio.css ----------------------------------------------------------------

INK = "#1f2937"  # known
DRAFTED = "#e0a100"
ACCEPTED = "#2e9d5b"
REJECTED = "#d93636"
REPLACED = "#8e5bd6"
SETTLED = "#cfead9"
PATH = "#2e7d4f"
BLANK = "#e5e7eb"
WALL = "#374151"
PIN_ON = "#1d6fd1"
PIN_OFF = "#9a3412"
GOAL = "#b45309"
WHITE = "#ffffff"
EDGE = "#e2e8f0"  # a plain cell's border
DRAFT_FILL = "#fde9b0"  # a cell drafted on the path
DRAFT_TEXT, DRAFT_TEXT_FILL = "#92400e", "#fff7e0"  # a drafted token
REJECT_FILL = "#f8d0d0"  # a rejected draft with nothing settled in its place: the page's red flash, held
CAPTION = "#475569"

# -- timing and sizes ------------------------------------------------------------------------------

STEP_MS, LAST_MS = 250, 2000  # one model step; the finished run, held so it can be read
COLOURS = 64  # palette per image: the flat state colours plus the anti-aliasing of the letters
MARGIN, CAPTION_H = 10, 26  # around everything; the caption line on top
CELL, GAP = 28, 2  # a maze cell
TEXT_W, LINE_H, PAD = 640, 30, 3  # the passage: image width, line height, padding inside a token's box
STRIP_CELL, STRIP_COLS = 16, 32  # the generic strip


Box = tuple[int, int, int, int]  # x0, y0, x1, y1, inclusive
Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int) -> Font:
    """Pillow's bundled font (scalable since 10.1), so the GIF looks the same on every machine."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, OSError):  # an older Pillow: the small bitmap font
        return ImageFont.load_default()


# -- the events ------------------------------------------------------------------------------------


def _task(task: Task | str) -> Task:
    return get(task) if isinstance(task, str) else task


def events(task: Task | str, value: Any, frames: list[Frame]) -> list[dict]:
    """The dicts the API streams for this run, the verdict and the figures on the last."""
    task = _task(task)
    out = [step_json(task, value, frame) for frame in frames]
    out[-1] |= finish_json(task, value, frames)
    return out


def events_json(task: Task | str, value: Any, frames: list[Frame]) -> str:
    """`{"task": ..., "events": [...]}` with one event per line: easy to read, diff and grep, yet small."""
    task = _task(task)
    lines = ",\n".join(json.dumps(event, ensure_ascii=False) for event in events(task, value, frames))
    return f'{{"task": {json.dumps(task.name)}, "events": [\n{lines}\n]}}\n'


# -- the GIF ---------------------------------------------------------------------------------------


def gif(task_name: str, value: Any, frames: list[Frame]) -> bytes:
    """One image per frame (STEP_MS each, the last held LAST_MS), looping; a maze, a passage or a strip."""
    draw = DRAWERS.get(task_name, _strip_image)
    images = _same_size([draw(value, frame) for frame in frames])
    # an adaptive palette per image, undithered: flat colours stay exact, letters keep their edges
    images = [im.quantize(COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for im in images]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=[STEP_MS] * (len(images) - 1) + [LAST_MS],
        loop=0,
        optimize=True,
    )
    return buffer.getvalue()


def caption(frame: Frame) -> str:
    """The line above every image; the step number also keeps two images from ever being equal (a GIF
    writer merges equal neighbours, and then the images would no longer match the frames)."""
    calls = f"{frame.model_calls} model call{'' if frame.model_calls == 1 else 's'}"
    text = f"step {frame.step} · {frame.tokens_done}/{frame.to_fill} · {calls}"
    return text + " · done" if frame.finished else text


def _canvas(width: int, height: int, frame: Frame) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), caption(frame), fill=CAPTION, font=_font(13))
    return image, draw


def _same_size(images: list[Image.Image]) -> list[Image.Image]:
    """Every image on a white canvas of the largest size (a passage grows as its blanks fill)."""
    width, height = max(im.width for im in images), max(im.height for im in images)
    out = []
    for im in images:
        if im.size != (width, height):
            canvas = Image.new("RGB", (width, height), WHITE)
            canvas.paste(im, (0, 0))
            im = canvas
        out.append(im)
    return out


def _dashed(draw: ImageDraw.ImageDraw, box: Box, colour: str, width: int = 2) -> None:
    """A dashed rectangle (Pillow draws only solid ones): a draft is not yet a decision."""
    x0, y0, x1, y1 = box
    dash = 4
    for x in range(x0, x1 + 1, 2 * dash):
        draw.rectangle((x, y0, min(x + dash - 1, x1), y0 + width - 1), fill=colour)
        draw.rectangle((x, y1 - width + 1, min(x + dash - 1, x1), y1), fill=colour)
    for y in range(y0, y1 + 1, 2 * dash):
        draw.rectangle((x0, y, x0 + width - 1, min(y + dash - 1, y1)), fill=colour)
        draw.rectangle((x1 - width + 1, y, x1, min(y + dash - 1, y1)), fill=colour)


def _cross(draw: ImageDraw.ImageDraw, box: Box, colour: str) -> None:
    """A drawn ×: the bundled font has no glyph for it."""
    x0, y0, x1, y1 = box
    k = (x1 - x0) // 3
    draw.line((x0 + k, y0 + k, x1 - k, y1 - k), fill=colour, width=2)
    draw.line((x0 + k, y1 - k, x1 - k, y0 + k), fill=colour, width=2)


# -- a maze ----------------------------------------------------------------------------------------


def _maze_image(maze: mz.Maze, frame: Frame) -> Image.Image:
    """The board as the page draws it: `views.maze_view` decides each cell's state, this paints it."""
    h, w = maze.shape
    side = w * (CELL + GAP) - GAP
    image, draw = _canvas(max(side + 2 * MARGIN, 300), h * (CELL + GAP) - GAP + CAPTION_H + 2 * MARGIN, frame)
    left = (image.width - side) // 2
    label_font = _font(15)
    for r in range(h):
        for c in range(w):
            x, y = left + c * (CELL + GAP), MARGIN + CAPTION_H + r * (CELL + GAP)
            box = (x, y, x + CELL - 1, y + CELL - 1)
            states = set(" ".join(path_classes(frame, r * w + c, mz.path_index(maze.shape, (r, c)))).split())
            _maze_cell(draw, box, maze, (r, c), states, label_font)
    return image


def _maze_cell(draw: ImageDraw.ImageDraw, box: Box, maze: mz.Maze, cell: mz.Cell, states: set[str], font: Font) -> None:
    """One cell: its kind (wall, free, start, goal, pin) and a run's state on top, as in studio.css. Start
    and goal keep their colour and show a state in their border; free cells change colour."""
    kind = "start" if cell == maze.start else "goal" if cell == maze.goal else "wall" if not maze.free(cell) else "free"
    fill, edge, edge_w = {"wall": (WALL, WALL, 2), "start": (PIN_ON, PIN_ON, 2), "goal": (GOAL, GOAL, 2)}.get(
        kind, (BLANK, EDGE, 2)
    )
    pin = "on" if cell in maze.pins_on else "off" if cell in maze.pins_off else None
    if kind == "free" and pin:
        edge, edge_w = (PIN_ON if pin == "on" else PIN_OFF), 3
    on, dashed = "on" in states, False
    if "drafted" in states:
        edge, edge_w, dashed = DRAFTED, 2, True
        fill = DRAFT_FILL if kind == "free" and on else fill
    if "accepted" in states:
        edge, edge_w = ACCEPTED, 3
        fill = (ACCEPTED if on else WHITE) if kind == "free" else fill
    if "off" in states and kind == "free":
        fill = WHITE
    if "path" in states and kind in ("free", "wall"):
        fill, edge = PATH, PATH
    if "rejected" in states:
        edge, edge_w = REJECTED, 3
        if kind == "free":
            fill = (REPLACED if on else WHITE) if "replaced" in states else REJECT_FILL
    draw.rounded_rectangle(box, radius=4, fill=fill)
    if dashed:
        _dashed(draw, box, edge, edge_w)
    else:
        draw.rounded_rectangle(box, radius=4, outline=edge, width=edge_w)
    centre = ((box[0] + box[2] + 1) / 2, (box[1] + box[3] + 1) / 2)
    dark = fill in (PATH, ACCEPTED, REPLACED)
    if kind in ("start", "goal"):
        draw.text(centre, "S" if kind == "start" else "G", fill=WHITE, font=font, anchor="mm")
    elif pin == "on":
        draw.text(centre, "+", fill=WHITE if dark else PIN_ON, font=font, anchor="mm")
    elif pin == "off":
        _cross(draw, box, WHITE if dark else PIN_OFF)


# -- a passage -------------------------------------------------------------------------------------


def _state(frame: Frame, i: int) -> str:
    """The state of position i, read as `views.text_view._state` reads it: known, rejected, replaced,
    accepted, drafted, settled or blank."""
    if frame.known[i]:
        return "known"
    if i == frame.rejected:
        return "rejected" if frame.replacement is None else "replaced"
    if i in frame.accepted:
        return "accepted"
    if i in frame.drafted:
        return "drafted"
    return "settled" if frame.done[i] else "blank"


# state -> (box fill, letters, outline); None: none
TOKEN_STYLE = {
    "known": (None, INK, None),
    "blank": (BLANK, INK, None),
    "drafted": (DRAFT_TEXT_FILL, DRAFT_TEXT, DRAFTED),
    "accepted": (ACCEPTED, WHITE, None),
    "rejected": (None, REJECTED, REJECTED),  # the thrown-back draft, struck through
    "replaced": (REPLACED, WHITE, None),
    "settled": (SETTLED, INK, None),
}
NEWLINE_W = 12  # the drawn ↵ that ends a line (the bundled font has no glyph for it)


def _pieces(passage: Passage, frame: Frame, i: int) -> list[tuple[str, str]]:
    """Token i as (text, style) boxes: a rejection shows the struck draft, then what settled there."""
    state = _state(frame, i)
    if state == "blank":
        return [("", "blank")]
    if state in ("rejected", "replaced"):
        struck = [(piece(frame.rejected_token), "rejected")] if frame.rejected_token is not None else []
        return struck + ([(piece(frame.replacement), "replaced")] if state == "replaced" else [])
    token = passage.ids[i] if state == "known" else frame.drafted[i] if state == "drafted" else frame.tokens[i]
    return [(piece(token), state)]


def _text_image(passage: Passage, frame: Frame) -> Image.Image:
    """The passage as wrapped token boxes coloured by state; a newline in a token breaks the line."""
    font = _font(16)
    blank_w = int(font.getlength("M") * 1.6)  # a blank keeps a short word's width, like the page's box
    right = TEXT_W - MARGIN

    def size(line: str, style: str, pad: int) -> int:
        return (blank_w if style == "blank" else int(font.getlength(line))) + 2 * pad

    boxes = []  # (x, y, width, padding, text, style, newline)
    x, y = MARGIN, MARGIN + CAPTION_H
    for i in range(len(passage.ids)):
        for text, style in _pieces(passage, frame, i):
            pad = 0 if style == "known" else PAD  # given text flows as text; a box gets room around its letters
            lines = text.split("\n")
            for n, line in enumerate(lines):
                newline = n < len(lines) - 1
                width = size(line, style, pad) + (NEWLINE_W if newline else 0)
                if x + width > right and x > MARGIN:
                    x, y = MARGIN, y + LINE_H
                    if style == "known":  # no given space opens a line
                        line = line.lstrip(" ")
                        width = size(line, style, pad) + (NEWLINE_W if newline else 0)
                boxes.append((x, y, width, pad, line, style, newline))
                x += width + (pad > 0)
                if newline:
                    x, y = MARGIN, y + LINE_H
    image, draw = _canvas(TEXT_W, y + LINE_H + MARGIN, frame)
    for x, y, width, pad, line, style, newline in boxes:
        fill, ink, outline = TOKEN_STYLE[style]
        box = (x, y + 2, x + width - 1, y + LINE_H - 5)
        if fill:
            draw.rounded_rectangle(box, radius=3, fill=fill)
        if outline and style == "drafted":
            _dashed(draw, box, outline)
        elif outline:
            draw.rounded_rectangle(box, radius=3, outline=outline, width=2)
        mid = (box[1] + box[3] + 1) // 2
        draw.text((x + pad, mid), line, fill=ink, font=font, anchor="lm")
        if style == "rejected":
            draw.line((x + pad, mid, x + width - pad - 1, mid), fill=REJECTED, width=2)
        if newline:
            _return_arrow(draw, (x + width - pad - NEWLINE_W + 2, mid), ink)
    return image


def _return_arrow(draw: ImageDraw.ImageDraw, at: tuple[int, int], colour: str) -> None:
    """A small ↵ at the end of a token that ends a line."""
    x, y = at
    draw.line((x + 8, y - 5, x + 8, y + 2, x + 1, y + 2), fill=colour, width=1)
    draw.line((x + 1, y + 2, x + 4, y - 1), fill=colour, width=1)
    draw.line((x + 1, y + 2, x + 4, y + 5), fill=colour, width=1)


# -- any other task --------------------------------------------------------------------------------

STRIP_STYLE = {  # state -> (fill, outline)
    "known": (INK, INK),
    "blank": (BLANK, BLANK),
    "drafted": (DRAFT_FILL, DRAFTED),
    "accepted": (ACCEPTED, ACCEPTED),
    "rejected": (WHITE, REJECTED),
    "replaced": (REPLACED, REPLACED),
    "settled": (SETTLED, PATH),
}


def _strip_image(value: Any, frame: Frame) -> Image.Image:
    """One square per position, in rows, coloured by state: enough to watch any task's run settle."""
    n = len(frame.tokens)
    cols = min(n, STRIP_COLS)
    rows = -(-n // cols) if n else 0
    step = STRIP_CELL + GAP
    image, draw = _canvas(max(cols * step + 2 * MARGIN, 300), rows * step + CAPTION_H + 2 * MARGIN, frame)
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = MARGIN + c * step, MARGIN + CAPTION_H + r * step
        fill, outline = STRIP_STYLE[_state(frame, i)]
        box = (x, y, x + STRIP_CELL - 1, y + STRIP_CELL - 1)
        draw.rounded_rectangle(box, radius=3, fill=fill)
        if _state(frame, i) == "drafted":
            _dashed(draw, box, outline)
        else:
            draw.rounded_rectangle(box, radius=3, outline=outline, width=2)
    return image


DRAWERS: dict[str, Callable[[Any, Frame], Image.Image]] = {"maze": _maze_image, "text": _text_image}


# -- both files ------------------------------------------------------------------------------------


def write(task: Task | str, value: Any, frames: list[Frame], folder: str | Path | None = None) -> list[Path]:
    """`sigma-<task>-run.gif` and `sigma-<task>-run.json` in `folder` (a fresh temporary one by default, which
    Gradio serves), for a `gr.File` or `gr.DownloadButton`."""
    task = _task(task)
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="sigma-run-"))
    folder.mkdir(parents=True, exist_ok=True)
    gif_path, json_path = folder / f"sigma-{task.name}-run.gif", folder / f"sigma-{task.name}-run.json"
    gif_path.write_bytes(gif(task.name, value, frames))
    json_path.write_text(events_json(task, value, frames), encoding="utf-8")
    return [gif_path, json_path]

"""Frames of a run as an animated GIF, drawn with Pillow in the page's colour language (assets/studio.css), so
that a run plays anywhere an image does. The shared pieces live here: colours, the caption, canvases, dashed
boxes and the GIF itself; each task's view draws its own frame (`TaskView.gif_frame`: a maze as a grid of
cells, a passage as boxed tokens), and any other task gets a strip of positions.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFont

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


def font(size: int) -> Font:
    """Pillow's bundled font (scalable since 10.1), so the GIF looks the same on every machine."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, OSError):  # an older Pillow: the small bitmap font
        return ImageFont.load_default()


FrameImage = Callable[[Any, Frame], Image.Image]  # (the run's value, one frame) -> its picture


def gif(frame_image: FrameImage | None, value: Any, frames: list[Frame]) -> bytes:
    """One image per frame (STEP_MS each, the last held LAST_MS; where the last step's drafts or verdicts show,
    the run at rest after it is the one held), looping: drawn by `frame_image` (a task view's), or as a strip of
    positions when the task has none."""
    draw = frame_image or strip_image
    images = [draw(value, frame) for frame in frames]
    if frames and frames[-1].finished and frames[-1].has_news:  # the finished run at rest, held at the end
        rest = draw(value, frames[-1].at_rest())
        images += [rest] if rest.tobytes() != images[-1].tobytes() else []
    images = same_size(images)
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


def canvas(width: int, height: int, frame: Frame) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), caption(frame), fill=CAPTION, font=font(13))
    return image, draw


def same_size(images: list[Image.Image]) -> list[Image.Image]:
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


def dashed(draw: ImageDraw.ImageDraw, box: Box, colour: str, width: int = 2) -> None:
    """A dashed rectangle (Pillow draws only solid ones): a draft is not yet a decision."""
    x0, y0, x1, y1 = box
    dash = 4
    for x in range(x0, x1 + 1, 2 * dash):
        draw.rectangle((x, y0, min(x + dash - 1, x1), y0 + width - 1), fill=colour)
        draw.rectangle((x, y1 - width + 1, min(x + dash - 1, x1), y1), fill=colour)
    for y in range(y0, y1 + 1, 2 * dash):
        draw.rectangle((x0, y, x0 + width - 1, min(y + dash - 1, y1)), fill=colour)
        draw.rectangle((x1 - width + 1, y, x1, min(y + dash - 1, y1)), fill=colour)


def cross(draw: ImageDraw.ImageDraw, box: Box, colour: str) -> None:
    """A drawn ×: the bundled font has no glyph for it."""
    x0, y0, x1, y1 = box
    k = (x1 - x0) // 3
    draw.line((x0 + k, y0 + k, x1 - k, y1 - k), fill=colour, width=2)
    draw.line((x0 + k, y1 - k, x1 - k, y0 + k), fill=colour, width=2)


def position_state(frame: Frame, i: int) -> str:
    """The state of position i in a frame: known, rejected, replaced, accepted, drafted, settled or blank."""
    if frame.known[i]:
        return "known"
    if i == frame.rejected:
        return "rejected" if frame.replacement is None else "replaced"
    if i in frame.accepted:
        return "accepted"
    if i in frame.drafted:
        return "drafted"
    return "settled" if frame.done[i] else "blank"


# -- any other task ------------------------------------------------------------------------------

STRIP_STYLE = {  # state -> (fill, outline)
    "known": (INK, INK),
    "blank": (BLANK, BLANK),
    "drafted": (DRAFT_FILL, DRAFTED),
    "accepted": (ACCEPTED, ACCEPTED),
    "rejected": (WHITE, REJECTED),
    "replaced": (REPLACED, REPLACED),
    "settled": (SETTLED, PATH),
}


def strip_image(value: Any, frame: Frame) -> Image.Image:
    """One square per position, in rows, coloured by state: enough to watch any task's run settle."""
    n = len(frame.tokens)
    cols = min(n, STRIP_COLS)
    rows = -(-n // cols) if n else 0
    step = STRIP_CELL + GAP
    image, draw = canvas(max(cols * step + 2 * MARGIN, 300), rows * step + CAPTION_H + 2 * MARGIN, frame)
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = MARGIN + c * step, MARGIN + CAPTION_H + r * step
        fill, outline = STRIP_STYLE[position_state(frame, i)]
        box = (x, y, x + STRIP_CELL - 1, y + STRIP_CELL - 1)
        draw.rounded_rectangle(box, radius=3, fill=fill)
        if position_state(frame, i) == "drafted":
            dashed(draw, box, outline)
        else:
            draw.rounded_rectangle(box, radius=3, outline=outline, width=2)
    return image

"""The maze tab's drawing and editing: ASCII in sigma.tasks.maze's format is the one source of truth; a click
edits it, and a frame of a run paints the path cells over the board."""

from __future__ import annotations

import html
import random

import gradio as gr
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw

from sigma.task import top_choices
from sigma.tasks import maze as mz
from sigma.tasks.maze import families as mf
from sigma.tries import Tries
from sigma.words import ordinal
from views import charts, status
from views import gif as g
from views.models import MAZE
from views.outputs import Clicked, Edited, reports
from views.runs import Frame
from views.view import TaskView

# editing mode -> the ASCII character a click writes
MODES = {
    "wall": "#",
    "start": "S",
    "goal": "G",
    "pin: path here": "+",
    "pin: never here": "x",
    "erase": ".",
}
MAX_SIDE = 32


FAMILY_CHOICES = ["any", *mf.FAMILIES]


def random_maze(seed: int, shape: tuple[int, int] = (9, 9), family: str = "any") -> str:
    """A seeded solvable maze of one family, or of a family drawn from the mix ("any")."""
    return mz.render(mf.make(*shape, random.Random(seed), None if family == "any" else family))


def grid(ascii_maze: str) -> list[list[str]]:
    """The characters of a maze as the studio writes it, so that a maze pasted from another generator (spaces,
    'E', a ring of walls) is drawn and edited as the maze it reads as; tolerant of anything: a maze that does
    not parse is drawn as typed."""
    if not isinstance(ascii_maze, str):
        raise ValueError("the maze must be text: rows of # . S G + x")
    rows = [list(line.strip()) for line in ascii_maze.strip("\n").splitlines() if line.strip()]
    if len(rows) > MAX_SIDE or any(len(r) > MAX_SIDE for r in rows):
        raise ValueError(f"the maze is larger than {MAX_SIDE}x{MAX_SIDE}")
    try:
        return [list(row) for row in mz.render(mz.parse(ascii_maze, grid_shape())).splitlines()]
    except ValueError:
        return rows


def edit(ascii_maze: str, index: int, mode: str) -> tuple[str, str]:
    """Apply one click at cell `index` (row-major) in `mode`; returns the new ASCII and a note ('' if fine).
    Start and goal move rather than multiply; a wall click on a wall clears it."""
    rows = grid(ascii_maze)
    width = max((len(r) for r in rows), default=0)
    if mode not in MODES or not width or not 0 <= index < len(rows) * width:
        return ascii_maze, ""
    r, c = divmod(index, width)
    if c >= len(rows[r]):
        return ascii_maze, ""
    here, char = rows[r][c], MODES[mode]
    if char in "+x" and here == "#":
        return ascii_maze, "That cell is a wall: a pin must sit on a free cell (erase the wall first)."
    if char in "+x" and here in "SG":
        return ascii_maze, "Start and goal are always on the path; pin another cell."
    if char in "SG":
        if here in "SG" and here != char:
            return ascii_maze, "Start and goal cannot share a cell; erase or move the other one first."
        rows = [["." if ch == char else ch for ch in row] for row in rows]
    elif char == "#" and here == "#":
        char = "."
    rows[r][c] = char
    return "\n".join("".join(row) for row in rows), ""


def board_html(maze: str | mz.Maze, frame: Frame | None = None, order_map: bool = False) -> str:
    """The board as a CSS grid of cells carrying data-i (row-major index) for clicks, and state classes
    for a run's frame: drafted, accepted, rejected, replaced, settled (see the legend). ASCII is drawn
    as typed, even when it does not parse, so that a person sees what they are editing."""
    rows = grid(maze) if isinstance(maze, str) else [list(row) for row in mz.render(maze).splitlines()]
    width = max((len(r) for r in rows), default=0)
    shape = (len(rows), width)
    cells = []
    for r, row in enumerate(rows):
        for c in range(width):
            ch = row[c] if c < len(row) else "#"
            slot = mz.path_index(shape, (r, c))
            classes = ["cell", _KIND.get(ch, "bad")] + path_classes(frame, r * width + c, slot)
            title = f"row {r + 1}, column {c + 1}"
            if frame is not None and slot < len(frame.rank) and frame.rank[slot]:
                title += f", settled {ordinal(frame.rank[slot])}, at step {frame.settled_step[slot]}"
            label = {"S": "S", "G": "G"}.get(ch, "")
            colour = status.step_colour(frame, slot) if order_map and frame is not None and ch not in "#SG" else None
            style = f' style="background:{colour};border-color:{colour}"' if colour else ""
            cells.append(
                f'<div class="{" ".join(classes)}" data-i="{r * width + c}"{style} title="{html.escape(title)}">'
                f"{label}</div>"
            )
    key = status.order_key(frame) if order_map and frame is not None else ""
    strip = tries_strip(rows, frame.tries) if frame is not None and frame.tries is not None else ""
    return f'<div class="maze" style="--cols:{width}">{"".join(cells)}</div>{key}{strip}'


def tries_strip(rows: list[str], tries: Tries) -> str:
    """Every try of a run as a small board (views.status.tries_strip)."""
    width = max(len(r) for r in rows)
    boards = []
    for tokens in tries.tokens:
        cells = []
        for r, row in enumerate(rows):
            for c in range(width):
                ch = row[c] if c < len(row) else "#"
                on = tokens[mz.path_index((len(rows), width), (r, c))] == mz.ON
                kind = "wall" if ch == "#" else "end" if ch in "SG" else "on" if on else "free"
                cells.append(f'<i class="{kind}"></i>')
        boards.append(f'<div class="mini" style="--cols:{width}">{"".join(cells)}</div>')
    return status.tries_strip(tries, boards)


_KIND = {"#": "wall", ".": "free", "S": "start", "G": "goal", "+": "free pin-on", "x": "free pin-off", "*": "free"}


def path_classes(frame: Frame | None, i: int, p: int) -> list[str]:
    """State classes of maze cell i, whose path token sits at sequence index p. A finished run is drawn
    clean: the path in one colour, every other free cell plain white."""
    if frame is None or p >= len(frame.tokens):
        return []
    on = frame.tokens[p] == mz.ON
    if frame.finished:
        return ["path"] if on else ["off"]
    if frame.tokens[i] == mz.WALL:  # only a path drawn through a wall is worth showing there
        return ["path"] if frame.done[p] and on else []
    if p == frame.rejected:
        return ["rejected"] + (
            ["replaced" + (" on" if frame.replacement == mz.ON else "")] if frame.replacement else []
        )
    if p in frame.accepted:
        return ["accepted" + (" on" if on else "")]
    if p in frame.drafted:
        return ["drafted" + (" on" if frame.drafted[p] == mz.ON else "")]
    if frame.done[p] and not frame.known[p]:
        return ["path"] if on else ["off"]
    return []


def density_figure(maze: mz.Maze, probs: torch.Tensor, known: list[bool], k: int) -> go.Figure:
    """P(on the path) of every undecided cell from one model pass; decided cells are left blank."""
    h, w = maze.shape
    on = [[None] * w for _ in range(h)]
    for index, top in top_choices(mz.TASK, probs, known, k=2):
        r, c = mz.cell_of(maze.shape, index)
        on[r][c] = dict(top).get("on", 0.0)
    return charts.grid_heatmap(on, start=maze.start, goal=maze.goal, walls=maze.walls)


def readiness(ascii_maze: str, shape: tuple[int, int] | None) -> tuple[mz.Maze | None, str, bool]:
    """The parsed maze (None if it does not parse), a message before any sampling (what stops it from being
    solved, if anything), and whether it can be solved: the solvability search runs once per edit."""
    try:
        maze = mz.parse(ascii_maze, shape)
    except ValueError as err:
        return None, status.message(f"Not ready to solve: {err}.", "fair"), False
    problem = mz.TASK.problem(maze)
    if problem:
        return maze, status.message(problem, "bad"), False
    return maze, status.message("Ready: press Solve.", "info"), True


# -- the board as a GIF frame (views.gif) ----------------------------------------------------------


def gif_frame(maze: mz.Maze, frame: Frame) -> Image.Image:
    """The board as the page draws it: `views.maze_view` decides each cell's state, this paints it."""
    h, w = maze.shape
    side = w * (g.CELL + g.GAP) - g.GAP
    image, draw = g.canvas(
        max(side + 2 * g.MARGIN, 300), h * (g.CELL + g.GAP) - g.GAP + g.CAPTION_H + 2 * g.MARGIN, frame
    )
    left = (image.width - side) // 2
    label_font = g.font(15)
    for r in range(h):
        for c in range(w):
            x, y = left + c * (g.CELL + g.GAP), g.MARGIN + g.CAPTION_H + r * (g.CELL + g.GAP)
            box = (x, y, x + g.CELL - 1, y + g.CELL - 1)
            states = set(" ".join(path_classes(frame, r * w + c, mz.path_index(maze.shape, (r, c)))).split())
            _gif_cell(draw, box, maze, (r, c), states, label_font)
    return image


def _gif_cell(
    draw: ImageDraw.ImageDraw, box: g.Box, maze: mz.Maze, cell: mz.Cell, states: set[str], font: g.Font
) -> None:
    """One cell: its kind (wall, free, start, goal, pin) and a run's state on top, as in studio.css. Start
    and goal keep their colour and show a state in their border; free cells change colour."""
    kind = "start" if cell == maze.start else "goal" if cell == maze.goal else "wall" if not maze.free(cell) else "free"
    fill, edge, edge_w = {
        "wall": (g.WALL, g.WALL, 2),
        "start": (g.PIN_ON, g.PIN_ON, 2),
        "goal": (g.GOAL, g.GOAL, 2),
    }.get(kind, (g.BLANK, g.EDGE, 2))
    pin = "on" if cell in maze.pins_on else "off" if cell in maze.pins_off else None
    if kind == "free" and pin:
        edge, edge_w = (g.PIN_ON if pin == "on" else g.PIN_OFF), 3
    on, dashed = "on" in states, False
    if "drafted" in states:
        edge, edge_w, dashed = g.DRAFTED, 2, True
        fill = g.DRAFT_FILL if kind == "free" and on else fill
    if "accepted" in states:
        edge, edge_w = g.ACCEPTED, 3
        fill = (g.ACCEPTED if on else g.WHITE) if kind == "free" else fill
    if "off" in states and kind == "free":
        fill = g.WHITE
    if "path" in states and kind in ("free", "wall"):
        fill, edge = g.PATH, g.PATH
    if "rejected" in states:
        edge, edge_w = g.REJECTED, 3
        if kind == "free":
            fill = (g.REPLACED if on else g.WHITE) if "replaced" in states else g.REJECT_FILL
    draw.rounded_rectangle(box, radius=4, fill=fill)
    if dashed:
        g.dashed(draw, box, edge, edge_w)
    else:
        draw.rounded_rectangle(box, radius=4, outline=edge, width=edge_w)
    centre = ((box[0] + box[2] + 1) / 2, (box[1] + box[3] + 1) / 2)
    dark = fill in (g.PATH, g.ACCEPTED, g.REPLACED)
    if kind in ("start", "goal"):
        draw.text(centre, "S" if kind == "start" else "G", fill=g.WHITE, font=font, anchor="mm")
    elif pin == "on":
        draw.text(centre, "+", fill=g.WHITE if dark else g.PIN_ON, font=font, anchor="mm")
    elif pin == "off":
        g.cross(draw, box, g.WHITE if dark else g.PIN_OFF)


# -- the tab's editing handlers (views.outputs) ---------------------------------------------------


def grid_shape() -> tuple[int, int]:
    """The loaded maze model's grid (9x9 when none is loaded)."""
    model = MAZE.get()
    return mz.grid_of(model) if model is not None else (9, 9)


@reports(Clicked)
def on_click(ascii_maze: str, mode: str, evt: gr.EventData) -> Clicked:
    """A click on the board places what the mode says, written into the ASCII box (whose change redraws)."""
    new, note = edit(ascii_maze, int(evt.index), mode)
    return Clicked(gr.skip(), status.message(note, "fair")) if note else Clicked(new, gr.skip())


@reports(Edited)
def on_edit(ascii_maze: str) -> Edited:
    """Parse the input and redraw the board (the maze it reads as, or the text as typed when it does not parse), and
    say whether it can be solved; Solve works only when it can."""
    maze, line, ready = readiness(ascii_maze, grid_shape())
    return Edited(maze, board_html(ascii_maze if maze is None else maze), line, gr.update(interactive=ready))


def on_new(family: str) -> str:
    """A fresh random maze of `family` (any family when the name is not one)."""
    if family not in FAMILY_CHOICES:
        family = "any"
    return random_maze(random.randrange(10**6), grid_shape(), family)


# the colour key under the tab (status.legend)
LEGEND = [
    ("wall", "wall"),
    ("pin-on", "pinned on the path (+)"),
    ("pin-off", "pinned off the path (×)"),
    *status.RUN_ITEMS[:1],
    ("accepted", "accepted this step, on the path"),
    ("accepted-off", "accepted this step, off the path"),
    *status.RUN_ITEMS[2:],
    ("path", "on the path (settled)"),
    ("off", "off the path (settled)"),
    ("blank", "still undecided"),
]


VIEW = TaskView(
    mz.TASK,
    board_html,
    density_figure,
    run_label="Solve",
    gif_frame=gif_frame,
    legend=tuple(LEGEND),
    example_labels=("random walls", "corridor maze", "rooms", "a pin on the path", "unsolvable (to see why)"),
)

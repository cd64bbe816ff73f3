"""The maze tab's drawing and editing: ASCII in sigma.maze's format is the one source of truth; a click
edits it, and a frame of a run paints the path cells over the board."""

from __future__ import annotations

import html
import random

import torch

from sigma import SigmaGPT
from sigma import maze as mz
from sigma import maze_families as mf
from sigma.sampling import conditional_density
from views import status
from views.runs import Frame, Settings, frames

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


def examples(shape: tuple[int, int] = (9, 9)) -> list[str]:
    """Seeded mazes of several families, one with a pin a valid path passes through, and one that
    cannot be solved (to see the message)."""
    plain = [random_maze(seed, shape, family) for seed, family in ((1, "random"), (7, "backtracker"), (4, "rooms"))]
    rng = random.Random(3)
    via = None
    while via is None:
        maze = mf.make(*shape, rng, "braided")
        _, via = mz.training_path(maze, rng, waypoint_share=1.0)
    maze.pins_on = {via}
    walled = mz.generate(*shape, random.Random(5))
    for r, c in walled.neighbours(walled.goal):
        walled.walls[r][c] = True
    return [*plain, mz.render(maze), mz.render(walled)]


def grid(ascii_maze: str) -> list[list[str]]:
    """The characters of a maze, tolerant of anything (the board draws even a maze that does not parse)."""
    if not isinstance(ascii_maze, str):
        raise ValueError("the maze must be text: rows of # . S G + x")
    rows = [list(line.strip()) for line in ascii_maze.strip("\n").splitlines() if line.strip()]
    if len(rows) > MAX_SIDE or any(len(r) > MAX_SIDE for r in rows):
        raise ValueError(f"the maze is larger than {MAX_SIDE}x{MAX_SIDE}")
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


def run(model: SigmaGPT, ascii_maze: str, settings: Settings):
    """Parse and check a maze, then its run's frames. Bad or unsolvable input raises ValueError first."""
    maze = mz.parse(ascii_maze, mz.grid_of(model))
    reason = mz.unsolvable_reason(maze)
    if reason:
        raise ValueError(f"This maze cannot be solved: {reason}.")
    tokens, known = mz.encode(maze)
    return maze, frames(model, tokens.to(model.device), known.to(model.device), settings)


def path_of(maze: mz.Maze, frame: Frame) -> set[mz.Cell]:
    """Cells settled on the path so far."""
    h, w = maze.shape
    n = h * w
    return {divmod(i, w) for i in range(n) if frame.done[n + i] and frame.tokens[n + i] == mz.ON}


def verdict(maze: mz.Maze, frame: Frame) -> tuple[str, str]:
    """A plain sentence on the finished path, and its tone (good, fair, bad)."""
    v = mz.check(maze, path_of(maze, frame))
    if v.optimal:
        return f"Valid and shortest: {v.length} cells.", "good"
    if v.valid:
        return f"Valid but not shortest: {v.length} cells, the shortest is {v.shortest}.", "fair"
    if v.violates_pins:
        return "Not valid: the path violates a pin.", "bad"
    return "Not valid: the cells do not form one simple path from start to goal.", "bad"


def ascii_of(maze: mz.Maze, frame: Frame) -> str:
    return mz.render(maze, path_of(maze, frame))


def board_html(ascii_maze: str, frame: Frame | None = None) -> str:
    """The board as a CSS grid of cells carrying data-i (row-major index) for clicks, and state classes
    for a run's frame: drafted, accepted, rejected, replaced, settled (see the legend)."""
    rows = grid(ascii_maze)
    width = max((len(r) for r in rows), default=0)
    cells = []
    for r, row in enumerate(rows):
        for c in range(width):
            ch = row[c] if c < len(row) else "#"
            classes = ["cell", _KIND.get(ch, "bad")] + _path_classes(frame, r * width + c, len(rows) * width)
            title = f"row {r + 1}, column {c + 1}"
            if frame is not None and frame.rank[len(rows) * width + r * width + c]:
                title += f", settled {frame.rank[len(rows) * width + r * width + c]}th"
            label = {"S": "S", "G": "G"}.get(ch, "")
            cells.append(
                f'<div class="{" ".join(classes)}" data-i="{r * width + c}" title="{html.escape(title)}">{label}</div>'
            )
    return f'<div class="maze" style="--cols:{width}">{"".join(cells)}</div>'


_KIND = {"#": "wall", ".": "free", "S": "start", "G": "goal", "+": "free pin-on", "x": "free pin-off", "*": "free"}


def _path_classes(frame: Frame | None, i: int, n: int) -> list[str]:
    if frame is None:
        return []
    p = n + i
    if p >= len(frame.tokens):
        return []
    out = []
    on = frame.tokens[p] == mz.ON
    if frame.tokens[i] == mz.WALL:  # only a path drawn through a wall is worth showing there
        return ["settled", "on"] if frame.done[p] and on else []
    if p == frame.rejected:
        out.append("rejected")
        if frame.replacement is not None:
            out.append("replaced" + (" on" if frame.replacement == mz.ON else ""))
    elif p in frame.accepted:
        out.append("accepted" + (" on" if on else ""))
    elif p in frame.drafted:
        out.append("drafted" + (" on" if frame.drafted[p] == mz.ON else ""))
    elif frame.done[p] and not frame.known[p]:
        out.append("settled" + (" on" if on else ""))
    return out


def density_grid(model: SigmaGPT, maze: mz.Maze, frame: Frame | None) -> list[list[float | None]]:
    """P(on the path) of every undecided cell from one model pass, given the maze, pins and (if a run is
    being scrubbed) the cells settled so far; None for cells already decided."""
    tokens, known = mz.encode(maze)
    if frame is not None:
        tokens, known = torch.tensor(frame.tokens), torch.tensor(frame.done)
    h, w = maze.shape
    if bool(known.all()):
        raise ValueError("Every cell is decided, so there is nothing to look at: unpin some cells.")
    probs = conditional_density(model, tokens[None].to(model.device), known[None].to(model.device))[0]
    n = h * w
    return [
        [None if known[n + r * w + c] else round(float(probs[n + r * w + c, mz.ON]), 4) for c in range(w)]
        for r in range(h)
    ]


def render(ascii_maze: str, frame: Frame) -> tuple[str, str, str]:
    """Board, progress line (with the verdict once finished) and the ASCII result of one frame."""
    maze = mz.parse(ascii_maze)
    said, tone = verdict(maze, frame) if frame.finished else ("", "info")
    return board_html(ascii_maze, frame), status.progress(frame, said, tone), ascii_of(maze, frame)


def readiness(ascii_maze: str, shape: tuple[int, int] | None) -> str:
    """A message on the edited maze before any sampling: what stops it from being solved, if anything."""
    try:
        maze = mz.parse(ascii_maze, shape)
    except ValueError as err:
        return status.message(f"Not ready to solve: {err}.", "fair")
    reason = mz.unsolvable_reason(maze)
    if reason:
        return status.message(f"This maze cannot be solved: {reason}.", "bad")
    return status.message("Ready: press Solve.", "info")

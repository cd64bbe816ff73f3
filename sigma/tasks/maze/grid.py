"""The maze itself: a grid of free cells and walls with a start S, a goal G and pins, its tokens, and ASCII.

The sequence is the maze's cells (always known) followed by one path cell per grid cell (on/off, to
generate). Pins are path cells fixed by the user: "+" on the path, "x" off it; they are simply known tokens.

ASCII: one row per line, '#' wall, '.' free, 'S' start, 'G' goal; in input '+' pinned on the path,
'x' pinned off; in output '*' path. Input as other maze generators print it also reads: ' ' for a free cell,
'E' for the goal, and a ring of walls around a grid of the expected size (stripped; a start or goal in the ring
moves to the cell inside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

FREE, WALL, START, GOAL, OFF, ON = range(6)
TOKEN_NAMES = ("free", "wall", "start", "goal", "off", "on")
VOCAB_SIZE = 6
MAX_PINS = 10  # cells pinned on the path besides S and G: the pinned shortest-path search is 2^pins states
Cell = tuple[int, int]


@dataclass
class Maze:
    walls: list[list[bool]]
    start: Cell
    goal: Cell
    pins_on: set[Cell] = field(default_factory=set)
    pins_off: set[Cell] = field(default_factory=set)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.walls), len(self.walls[0])

    def free(self, cell: Cell) -> bool:
        r, c = cell
        h, w = self.shape
        return 0 <= r < h and 0 <= c < w and not self.walls[r][c]

    def neighbours(self, cell: Cell) -> list[Cell]:
        r, c = cell
        return [n for n in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)) if self.free(n)]


def pin(maze: Maze, cell: Cell, on: bool) -> None:
    """Pin a path cell on or off (replacing any earlier pin there); pins go on free cells only."""
    h, w = maze.shape
    r, c = cell
    if not (0 <= r < h and 0 <= c < w):
        raise ValueError(f"pin at row {r + 1}, column {c + 1} is outside the {h}x{w} maze")
    if maze.walls[r][c]:
        raise ValueError(f"cannot pin a wall at row {r + 1}, column {c + 1}: pins go on free cells")
    maze.pins_on.discard(cell)
    maze.pins_off.discard(cell)
    (maze.pins_on if on else maze.pins_off).add(cell)


# -- tokens ---------------------------------------------------------------------------------------


def maze_tokens(maze: Maze) -> list[int]:
    h, w = maze.shape
    codes = []
    for r in range(h):
        for c in range(w):
            cell = (r, c)
            codes.append(
                START if cell == maze.start else GOAL if cell == maze.goal else WALL if maze.walls[r][c] else FREE
            )
    return codes


def encode(maze: Maze, path: list[Cell] | set[Cell] | None = None) -> tuple[Tensor, Tensor]:
    """tokens [2HW] and known [2HW]: maze cells and pins known; path cells ON/OFF (OFF where no path is given)."""
    h, w = maze.shape
    on = set(path or ())
    cells = [(r, c) for r in range(h) for c in range(w)]
    tokens = maze_tokens(maze) + [ON if cell in on or cell in maze.pins_on else OFF for cell in cells]
    known = [True] * (h * w) + [cell in maze.pins_on or cell in maze.pins_off for cell in cells]
    return torch.tensor(tokens), torch.tensor(known)


def path_index(shape: tuple[int, int], cell: Cell) -> int:
    """The sequence index of a cell's path token (the path follows the H×W maze cells)."""
    h, w = shape
    return h * w + cell[0] * w + cell[1]


def cell_of(shape: tuple[int, int], index: int) -> Cell:
    """The cell of a sequence index, maze token or path token."""
    h, w = shape
    return divmod(index % (h * w), w)


def path_cells(maze: Maze, tokens: Tensor | list[int], done: list[bool] | None = None) -> set[Cell]:
    """Cells whose path token is ON (and, given `done`, settled)."""
    h, w = maze.shape
    flags = tokens.tolist() if isinstance(tokens, Tensor) else tokens
    return {divmod(i, w) for i in range(h * w) if flags[h * w + i] == ON and (done is None or done[h * w + i])}


# -- ASCII ----------------------------------------------------------------------------------------

_INPUT = {"#": "wall", ".": "free", " ": "free", "S": "start", "G": "goal", "E": "goal", "+": "pin on", "x": "pin off"}


def _rows(text: str, expected: tuple[int, int] | None) -> list[str]:
    """The maze's rows: blank lines around it and a common indent dropped; where spaces are free cells (no '.'
    in the text), short rows padded with free cells, as editors trim trailing spaces; a ring of walls around a
    grid of the expected size stripped (`_inside_the_ring`)."""
    lines = text.replace("\r", "").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if "." in text:  # the studio's own format: spaces are indentation or trailing
        lines = [line.strip() for line in lines if line.strip()]
    else:
        lines = [line.rstrip() for line in lines]
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        width = expected[1] if expected else 0
        if not expected or any(len(line) > width for line in lines):  # an indent, unless the rows fit as they are
            lines = [line[indent:] for line in lines]
        width = max([width, *(len(line) for line in lines)])
        lines = [line.ljust(width) for line in lines]
    if expected and (len(lines), len(lines[0]) if lines else 0) == (expected[0] + 2, expected[1] + 2):
        lines = _inside_the_ring(lines)
    return lines


def _inside_the_ring(lines: list[str]) -> list[str]:
    """The grid inside a ring of walls; a start or goal in the ring (a door, as maze libraries print them) moves to
    the free cell inside it, where the path enters. The rows as they are when the ring is not one."""
    h, w = len(lines) - 2, len(lines[0]) - 2
    inner = [list(line[1:-1]) for line in lines[1:-1]]
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if 0 < r <= h and 0 < c <= w or ch == "#":
                continue
            if ch not in "SGE" or (r in (0, h + 1) and c in (0, w + 1)):
                return lines  # not a ring of walls, or a door in a corner, which has no cell inside
            i, j = min(max(r, 1), h) - 1, min(max(c, 1), w) - 1
            if inner[i][j] not in ". ":
                return lines  # the cell inside the door is taken
            inner[i][j] = ch
    return ["".join(row) for row in inner]


def parse(text: str, expected: tuple[int, int] | None = None) -> Maze:
    """Read an ASCII maze; raise ValueError naming the first problem."""
    if not isinstance(text, str):
        raise ValueError("the maze must be a string of ASCII rows")
    lines = _rows(text, expected)
    if not lines:
        raise ValueError("the maze is empty")
    widths = {len(line) for line in lines}
    if len(widths) > 1:
        raise ValueError(f"ragged rows: row lengths {sorted(widths)} differ; every row needs the same width")
    h, w = len(lines), len(lines[0])
    if expected is not None and (h, w) != tuple(expected):
        ringed = (h, w) == (expected[0] + 2, expected[1] + 2)
        why = " (a ring of walls around it is dropped, and a door in it must lead to a free cell of its own)"
        why = why if ringed else ""
        written = max(len(line.rstrip()) for line in lines)  # as typed: short rows were padded with free cells
        raise ValueError(f"the maze is {h}x{written} but the model expects {expected[0]}x{expected[1]}{why}")
    walls = [[False] * w for _ in range(h)]
    starts, goals, on, off = [], [], set(), set()
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if ch == "*":
                raise ValueError(f"'*' at row {r + 1}, column {c + 1} marks a solved path; pin cells with '+' instead")
            if ch not in _INPUT:
                where = f"row {r + 1}, column {c + 1}"
                raise ValueError(f"unknown character {ch!r} at {where}: use one of # . S G + x (or ' ' free, 'E' goal)")
            walls[r][c] = ch == "#"
            {"start": starts, "goal": goals}.get(_INPUT[ch], []).append((r, c))
            if ch == "+":
                on.add((r, c))
            if ch == "x":
                off.add((r, c))
    for name, found in (("start S", starts), ("goal G", goals)):
        if len(found) != 1:
            raise ValueError(f"the maze needs exactly one {name}, found {len(found)}")
    if len(on) > MAX_PINS:
        raise ValueError(f"at most {MAX_PINS} cells can be pinned on the path with '+', found {len(on)}: remove some")
    return Maze(walls, starts[0], goals[0], on, off)


def render(maze: Maze, on: set[Cell] | None = None) -> str:
    h, w = maze.shape
    on = on or set()
    rows = []
    for r in range(h):
        row = ""
        for c in range(w):
            cell = (r, c)
            if cell == maze.start:
                row += "S"
            elif cell == maze.goal:
                row += "G"
            elif maze.walls[r][c]:
                row += "#"
            elif cell in on:
                row += "*"
            elif cell in maze.pins_on:
                row += "+"
            elif cell in maze.pins_off:
                row += "x"
            else:
                row += "."
        rows.append(row)
    return "\n".join(rows)

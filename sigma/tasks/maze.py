"""Maze path solving as a σ-GPT task: grids, BFS, training paths, tokens, ASCII, and `solve`.

A maze is an H×W grid of free cells and walls with a start S and a goal G. The sequence is the
maze's cells (always known) followed by one path cell per grid cell (on/off, to generate). Pins are
path cells fixed by the user: "+" on the path, "x" off it; they are simply known tokens.

ASCII: one row per line, '#' wall, '.' free, 'S' start, 'G' goal; in input '+' pinned on the path,
'x' pinned off; in output '*' path.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from sigma.settings import Settings

FREE, WALL, START, GOAL, OFF, ON = range(6)
TOKEN_NAMES = ("free", "wall", "start", "goal", "off", "on")
VOCAB_SIZE = 6
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


# -- search ---------------------------------------------------------------------------------------


def bfs(maze: Maze, source: Cell, blocked: set[Cell] = frozenset()) -> dict[Cell, int]:
    """Distances from `source` over free cells not in `blocked`."""
    dist = {source: 0}
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for n in maze.neighbours(cell):
            if n not in dist and n not in blocked:
                dist[n] = dist[cell] + 1
                queue.append(n)
    return dist


def random_shortest_path(maze: Maze, a: Cell, b: Cell, rng: random.Random, blocked=frozenset()) -> list[Cell] | None:
    """A shortest path from a to b, uniform over all shortest paths (None if b is unreachable)."""
    dist = bfs(maze, a, blocked)
    if b not in dist:
        return None
    count = {a: 1}
    for cell in sorted(dist, key=dist.get)[1:]:
        count[cell] = sum(count[n] for n in maze.neighbours(cell) if dist.get(n, -9) == dist[cell] - 1)
    path = [b]
    while path[-1] != a:
        cell = path[-1]
        prev = [n for n in maze.neighbours(cell) if dist.get(n, -9) == dist[cell] - 1]
        path.append(rng.choices(prev, weights=[count[n] for n in prev])[0])
    return path[::-1]


def shortest_length_under_pins(maze: Maze) -> int | None:
    """Fewest cells of a walk S→G that visits every pin "on" and avoids every pin "off".

    BFS over (cell, pins visited); a lower bound on the shortest simple path, and equal to it in all
    but contrived cases. None if no such walk exists: the maze is unsolvable under its pins."""
    pins = sorted(maze.pins_on - {maze.start, maze.goal})
    if len(pins) > 10:
        raise ValueError("at most 10 cells can be pinned on the path")
    index = {p: i for i, p in enumerate(pins)}
    full = (1 << len(pins)) - 1
    start = (maze.start, 0)
    dist = {start: 1}
    queue = deque([start])
    while queue:
        cell, mask = queue.popleft()
        if cell == maze.goal and mask == full:
            return dist[(cell, mask)]
        if cell == maze.goal:
            continue
        for n in maze.neighbours(cell):
            if n in maze.pins_off:
                continue
            state = (n, mask | (1 << index[n]) if n in index else mask)
            if state not in dist:
                dist[state] = dist[(cell, mask)] + 1
                queue.append(state)
    return None


# -- generation -----------------------------------------------------------------------------------


def generate(h: int, w: int, rng: random.Random, wall_density: tuple[float, float] = (0.2, 0.3)) -> Maze:
    """A random solvable maze; start and goal at least (h + w) / 2 steps apart."""
    floor = (h + w) // 2
    while True:
        density = rng.uniform(*wall_density)
        walls = [[rng.random() < density for _ in range(w)] for _ in range(h)]
        maze = Maze(walls, (0, 0), (0, 0))
        free = [(r, c) for r in range(h) for c in range(w) if not walls[r][c]]
        if len(free) < 2:
            continue
        maze.start = rng.choice(free)
        dist = bfs(maze, maze.start)
        far = [cell for cell, d in dist.items() if d >= floor]
        if far:
            maze.goal = rng.choice(far)
            return maze


def training_path(maze: Maze, rng: random.Random, waypoint_share: float = 0.3) -> tuple[list[Cell], Cell | None]:
    """A shortest path, or with probability `waypoint_share` a path forced through a random free cell
    (shortest to it, then shortest on, avoiding the first leg), so that user pins are in distribution."""
    if rng.random() < waypoint_share:
        h, w = maze.shape
        for _ in range(8):
            via = (rng.randrange(h), rng.randrange(w))
            if not maze.free(via) or via in (maze.start, maze.goal):
                continue
            first = random_shortest_path(maze, maze.start, via, rng, blocked={maze.goal})
            if first is None:
                continue
            second = random_shortest_path(maze, via, maze.goal, rng, blocked=set(first[:-1]))
            if second is not None:
                path = first + second[1:]
                if is_simple_path(maze, set(path)):
                    return path, via
    return random_shortest_path(maze, maze.start, maze.goal, rng), None


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


def training_example(maze: Maze, rng: random.Random, waypoint_share: float = 0.3, avoid_share: float = 0.15):
    """A training path and the pins it was drawn under: pins are visible to the model, so that it
    learns detours only when a pin asks for one, and shortest paths otherwise.

    With probability `waypoint_share` the path is forced through a random cell pinned on; with
    probability `avoid_share` a random free cell is pinned off and the path is shortest around it."""
    path, via = training_path(maze, rng, waypoint_share)
    if via is not None:
        maze.pins_on = {via}
    elif rng.random() < avoid_share:
        h, w = maze.shape
        cell = (rng.randrange(h), rng.randrange(w))
        if maze.free(cell) and cell not in (maze.start, maze.goal):
            detour = random_shortest_path(maze, maze.start, maze.goal, rng, blocked={cell})
            if detour is not None:
                path = detour
                maze.pins_off = {cell}
    return path


def training_batch(
    h: int,
    w: int,
    batch: int,
    gen: torch.Generator,
    waypoint_share: float = 0.3,
    maker: Callable[[int, int, random.Random], Maze] = generate,
) -> tuple[Tensor, Tensor]:
    """tokens [B, 2HW] and known [B, 2HW] (maze cells and pins), for training with loss on path cells;
    mazes from `maker` (for example `sigma.maze_families.make`, the mix of families)."""
    rng = random.Random(int(torch.randint(0, 2**62, (1,), generator=gen)))
    rows = []
    for _ in range(batch):
        maze = maker(h, w, rng)
        path = training_example(maze, rng, waypoint_share)
        rows.append(encode(maze, path))
    return torch.stack([t for t, _ in rows]), torch.stack([k for _, k in rows])


# -- checks ---------------------------------------------------------------------------------------


def is_simple_path(maze: Maze, on: set[Cell]) -> bool:
    """The on-cells induce one simple 4-connected path from start to goal over free cells."""
    if maze.start not in on or maze.goal not in on or any(not maze.free(c) for c in on):
        return False
    for cell in on:
        degree = sum(n in on for n in maze.neighbours(cell))
        if degree != (1 if cell in (maze.start, maze.goal) else 2):
            return False
    h, w = maze.shape
    off_path = {(r, c) for r in range(h) for c in range(w)} - on
    return len(bfs(maze, maze.start, blocked=off_path)) == len(on)  # one connected piece


@dataclass
class Verdict:
    valid: bool  # one simple path S→G over free cells, respecting every pin
    optimal: bool  # valid and as short as the shortest path under the same pins
    violates_pins: bool
    length: int
    shortest: int | None
    solution: str | None = None  # the maze's ASCII with '*' on the path, where the task drew it

    @property
    def sentence(self) -> str:
        if self.optimal:
            return f"Valid and shortest: {self.length} cells."
        if self.valid:
            return f"Valid but not shortest: {self.length} cells, the shortest is {self.shortest}."
        if self.violates_pins:
            return "Not valid: the path violates a pin."
        return "Not valid: the cells do not form one simple path from start to goal."

    @property
    def tone(self) -> str:
        return "good" if self.optimal else "fair" if self.valid else "bad"

    def as_json(self) -> dict:
        return {
            "solution": self.solution,
            "valid": self.valid,
            "shortest": self.optimal,
            "violates_pins": self.violates_pins,
            "message": self.sentence,
        }


def check(maze: Maze, on: set[Cell]) -> Verdict:
    violates = bool(maze.pins_on - on) or bool(maze.pins_off & on)
    valid = is_simple_path(maze, on) and not violates
    shortest = shortest_length_under_pins(maze)
    return Verdict(valid, valid and shortest is not None and len(on) <= shortest, violates, len(on), shortest)


# -- ASCII ----------------------------------------------------------------------------------------

_INPUT = {"#": "wall", ".": "free", "S": "start", "G": "goal", "+": "pin on", "x": "pin off"}


def parse(text: str, expected: tuple[int, int] | None = None) -> Maze:
    """Read an ASCII maze; raise ValueError naming the first problem."""
    if not isinstance(text, str):
        raise ValueError("the maze must be a string of ASCII rows")
    lines = [line.strip() for line in text.strip("\n").splitlines() if line.strip()]
    if not lines:
        raise ValueError("the maze is empty")
    widths = {len(line) for line in lines}
    if len(widths) > 1:
        raise ValueError(f"ragged rows: row lengths {sorted(widths)} differ; every row needs the same width")
    h, w = len(lines), len(lines[0])
    if expected is not None and (h, w) != tuple(expected):
        raise ValueError(f"the maze is {h}x{w} but the model expects {expected[0]}x{expected[1]}")
    walls = [[False] * w for _ in range(h)]
    starts, goals, on, off = [], [], set(), set()
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if ch == "*":
                raise ValueError(f"'*' at row {r + 1}, column {c + 1} marks a solved path; pin cells with '+' instead")
            if ch not in _INPUT:
                raise ValueError(f"unknown character {ch!r} at row {r + 1}, column {c + 1}: use one of # . S G + x")
            walls[r][c] = ch == "#"
            {"S": starts, "G": goals}.get(ch, []).append((r, c))
            if ch == "+":
                on.add((r, c))
            if ch == "x":
                off.add((r, c))
    for name, found in (("start S", starts), ("goal G", goals)):
        if len(found) != 1:
            raise ValueError(f"the maze needs exactly one {name}, found {len(found)}")
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


# -- solving --------------------------------------------------------------------------------------


@dataclass
class SolveResult:
    ascii: str
    valid: bool
    optimal: bool
    violates_pins: bool
    model_calls: int
    steps: int
    length: int
    shortest: int | None
    message: str


def grid_of(model) -> tuple[int, int]:
    grid = getattr(model.config, "grid", None)
    if grid is None or len(grid) != 3 or grid[0] != 2:
        raise ValueError("this model is not a maze model (its config has no (2, H, W) grid)")
    return grid[1], grid[2]


def _dead_end_pin(maze: Maze) -> Cell | None:
    """A cell pinned on the path, not an end, with fewer than two usable neighbours: a path would have
    to enter and leave it by the same cell."""
    for cell in sorted(maze.pins_on - {maze.start, maze.goal}):
        if sum(n not in maze.pins_off for n in maze.neighbours(cell)) < 2:
            return cell
    return None


class _OutOfBudget(Exception):
    pass


@dataclass
class Solvability:
    """Whether a valid path exists under the pins: `path` is one when it does; `decided` is False when
    the bounded search gave up (pins laid out so that the search space is too large)."""

    path: list[Cell] | None
    decided: bool
    reason: str | None


def find_path(maze: Maze, budget: int = 3_000) -> Solvability:
    """Search for a path that `check` calls valid: one simple, induced (no two non-consecutive cells
    touch) 4-connected path S→G through every pin "on" and no pin "off".

    Depth-first over path prefixes. A prefix is cut as soon as the cells still usable (free, unpinned
    off, not touching the prefix except at its tail) no longer connect the tail to the goal and every
    unvisited pin. Once every pin is visited, a shortest path to the goal through usable cells closes
    it (a shortest path has no chord). In general the problem is NP-hard, so the search stops after
    `budget` prefixes and says it could not decide."""
    h, w = maze.shape
    start, goal = maze.start, maze.goal
    pins = maze.pins_on - {start, goal}
    if start == goal:
        return Solvability(None, True, "start and goal are the same cell")
    if maze.pins_on & maze.pins_off:
        return Solvability(None, True, "a cell is pinned both on and off the path")
    if start in maze.pins_off or goal in maze.pins_off:
        return Solvability(None, True, "the start and the goal are always on the path; they cannot be pinned off")
    if goal not in bfs(maze, start):
        return Solvability(None, True, "the goal cannot be reached from the start")
    if goal not in bfs(maze, start, blocked=maze.pins_off):
        return Solvability(None, True, "the cells pinned off cut the start from the goal")
    stuck = _dead_end_pin(maze)
    if stuck:
        return Solvability(
            None,
            True,
            f"the pin at row {stuck[0] + 1}, column {stuck[1] + 1} has fewer than two open neighbours, "
            "so a path through it would have to turn back",
        )
    touching = [[0] * w for _ in range(h)]  # path cells next to each cell
    path: list[Cell] = []
    visits = 0

    def usable(cell: Cell, tail: Cell) -> bool:
        r, c = cell
        beside_tail = abs(r - tail[0]) + abs(c - tail[1]) == 1
        return cell not in maze.pins_off and touching[r][c] == beside_tail

    def push(cell: Cell) -> None:
        path.append(cell)
        for r, c in maze.neighbours(cell):
            touching[r][c] += 1

    def pop() -> None:
        for r, c in maze.neighbours(path.pop()):
            touching[r][c] -= 1

    def open_sides(pin: Cell, tail: Cell, on: set[Cell]) -> int:
        """Ways in and out a pin still has: the tail, or usable cells off the path."""
        return sum(n == tail or (n not in on and usable(n, tail)) for n in maze.neighbours(pin))

    def blocked_for(tail: Cell) -> set[Cell]:
        on = set(path)
        cells = ((r, c) for r in range(h) for c in range(w))
        return {cell for cell in cells if cell != tail and (cell in on or not usable(cell, tail))}

    def closing(tail: Cell) -> list[Cell] | None:
        """The rest of the path from `tail` to the goal through usable cells, or None."""
        return random_shortest_path(maze, tail, goal, random.Random(0), blocked=blocked_for(tail))

    def extend(tail: Cell, left: frozenset) -> list[Cell] | None:
        nonlocal visits
        visits += 1
        if visits > budget:
            raise _OutOfBudget
        if not left:
            rest = closing(tail)
            return None if rest is None else path + rest[1:]
        on = set(path)
        reach = bfs(maze, tail, blocked=blocked_for(tail))
        if goal not in reach or not left <= reach.keys() or any(open_sides(p, tail, on) < 2 for p in left):
            return None
        target = min(left, key=lambda p: reach[p])
        steps = [n for n in maze.neighbours(tail) if n not in on and n != goal and usable(n, tail)]
        steps.sort(key=lambda n: abs(n[0] - target[0]) + abs(n[1] - target[1]))
        for n in steps:
            push(n)
            found = extend(n, left - {n})
            if found:
                return found
            pop()
        return None

    push(start)
    try:
        found = extend(start, frozenset(pins))
    except (_OutOfBudget, RecursionError):
        return Solvability(None, False, "the pins make the search too large to decide")
    if found is None:
        return Solvability(None, True, "no single path from start to goal passes every pin without touching itself")
    return Solvability(found, True, None)


def unsolvable_reason(maze: Maze) -> str | None:
    """Why no valid path can exist, or None (also when the bounded search could not decide: the model
    may still find one). Checked before sampling so that a user never waits in vain."""
    answer = find_path(maze)
    return answer.reason if answer.decided else None


def solve(
    model,
    ascii_maze: str,
    *,
    sampler: str = "exact",
    seed: int = 0,
    temperature: float = 0.0,
    order: str = "random",
    num_orders: int = 5,
    method: str | None = None,
) -> SolveResult:
    """Parse, check, sample the path with the model, and judge it. Bad input raises ValueError.
    `method` is the old name of `sampler`."""
    from sigma.sampling import sample

    maze = parse(ascii_maze, grid_of(model))
    reason = unsolvable_reason(maze)
    if reason:
        return SolveResult(render(maze), False, False, False, 0, 0, 0, None, f"unsolvable: {reason}")
    tokens, known = encode(maze)
    settings = {"order": order, "temperature": temperature, "num_orders": num_orders, "seed": seed}
    if method is not None:
        settings["method"] = method  # sample() warns once about the old name
    else:
        settings["sampler"] = sampler
    out = sample(model, tokens[None].to(model.device), known[None].to(model.device), **settings)
    on = path_cells(maze, out.tokens[0].cpu())
    v = check(maze, on)
    calls, steps = int(out.model_calls[0]), int(out.steps[0])
    return SolveResult(
        render(maze, on), v.valid, v.optimal, v.violates_pins, calls, steps, v.length, v.shortest, v.sentence
    )


# -- the task, as the app and the API hold it -------------------------------------------------------


def examples(shape: tuple[int, int] = (9, 9)) -> list[str]:
    """Seeded mazes of several families, one with a pin a valid path passes through, and one that
    cannot be solved (to see the message)."""
    from sigma.tasks import maze_families as mf

    plain = [render(mf.make(*shape, random.Random(seed), family)) for seed, family in EXAMPLE_FAMILIES]
    rng = random.Random(3)
    via = None
    while via is None:
        maze = mf.make(*shape, rng, "braided")
        _, via = training_path(maze, rng, waypoint_share=1.0)
    maze.pins_on = {via}
    walled = generate(*shape, random.Random(5))
    for r, c in walled.neighbours(walled.goal):
        walled.walls[r][c] = True
    return [*plain, render(maze), render(walled)]


EXAMPLE_FAMILIES = ((1, "random"), (7, "backtracker"), (4, "rooms"))


class MazeTask:
    """Mazes as a `sigma.task.Task`: the value is a `Maze`, the answer its path cells."""

    name, verb, shown_as = "maze", "solve", "ascii"
    defaults = Settings(sampler="exact-confident", temperature=0.3, tries=4)  # measured: see README, Maze
    choices = (OFF, ON)

    def check_model(self, model) -> str | None:
        try:
            grid_of(model)
        except ValueError:
            return "is not a maze model (its config has no (2, H, W) grid)"
        if model.config.vocab_size != VOCAB_SIZE:
            return f"has vocab_size {model.config.vocab_size}, not the maze's {VOCAB_SIZE}"
        return None

    def parse(self, source: str | Maze, model) -> Maze:
        if not isinstance(source, Maze):
            return parse(source, grid_of(model))
        if source.shape != grid_of(model):
            raise ValueError(f"the maze is {source.shape[0]}x{source.shape[1]} but the model expects {grid_of(model)}")
        return source

    def problem(self, maze: Maze) -> str | None:
        reason = unsolvable_reason(maze)
        return f"This maze cannot be solved: {reason}." if reason else None

    def resolve(self, maze: Maze, model, settings: Settings) -> Maze:
        return maze

    def forbid(self, maze: Maze) -> Tensor:
        """A path cell is on or off, never a maze token: the samplers draw from the model renormalised over
        those two (exactly), so even an untrained model writes a well-formed answer. The pins are known."""
        h, w = maze.shape
        mask = torch.zeros(2 * h * w, VOCAB_SIZE, dtype=torch.bool)
        mask[h * w :] = True
        mask[h * w :, [OFF, ON]] = False
        return mask

    def encode(self, maze: Maze) -> tuple[Tensor, Tensor]:
        return encode(maze)

    def show(self, maze: Maze, tokens: list[int], done: list[bool]) -> str:
        return render(maze, path_cells(maze, tokens, done))

    def verdict(self, maze: Maze, tokens: list[int]) -> Verdict:
        on = path_cells(maze, tokens)
        return replace(check(maze, on), solution=render(maze, on))

    def accept(self, maze: Maze, tokens: list[int]) -> bool:
        return check(maze, path_cells(maze, tokens)).valid

    def position(self, maze: Maze, index: int) -> list[int]:
        return list(cell_of(maze.shape, index))

    def token_json(self, token: int) -> str:
        return self.token_label(token)

    def token_label(self, token: int) -> str:
        return TOKEN_NAMES[token] if 0 <= token < VOCAB_SIZE else str(token)

    def examples(self, model) -> list[str]:
        return examples(grid_of(model) if model is not None else (9, 9))


TASK = MazeTask()

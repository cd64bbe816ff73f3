"""Paths in a maze: shortest paths, paths through a waypoint, the checks of an answer (valid, shortest)
and the search that decides, before any sampling, whether a valid path exists under the pins."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from sigma.tasks.maze.grid import MAX_PINS, Cell, Maze


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
    if len(pins) > MAX_PINS:
        raise ValueError(f"at most {MAX_PINS} cells can be pinned on the path, found {len(pins)}")
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


# -- solvability ---------------------------------------------------------------------------------


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

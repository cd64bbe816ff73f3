"""Maze families a user meets, so that a model learns maze solving rather than one generator's habits.

Every generator returns a wall grid; `make` then places start and goal anywhere free and reachable
(dead ends, corridors, neighbours, far corners), so every maze it returns is solvable. Perfect mazes, one
family per spanning-tree algorithm, come from `sigma.tasks.maze.trees`; the other families (random walls,
braided and noisy perfect mazes, rooms, open fields, caves) are here.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sigma.tasks.maze.grid import Cell, Maze
from sigma.tasks.maze.search import bfs
from sigma.tasks.maze.trees import FIRST_TREES, TREES, Lattice, Walls, perfect


def random_walls(h: int, w: int, rng: random.Random, density: tuple[float, float] = (0.1, 0.4)) -> Walls:
    """Each cell a wall with one probability per maze (percolation)."""
    p = rng.uniform(*density)
    return [[rng.random() < p for _ in range(w)] for _ in range(h)]


def braided(h: int, w: int, rng: random.Random) -> Walls:
    """A perfect maze with a share of its inner walls knocked out, so that several routes exist."""
    walls = perfect(h, w, rng)
    share = rng.uniform(0.05, 0.35)
    for r in range(h):
        for c in range(w):
            if walls[r][c] and rng.random() < share and _joins_two_corridors(walls, r, c):
                walls[r][c] = False
    return walls


def _joins_two_corridors(walls: Walls, r: int, c: int) -> bool:
    h, w = len(walls), len(walls[0])

    def free(a: int, b: int) -> bool:
        return 0 <= a < h and 0 <= b < w and not walls[a][b]

    return (free(r - 1, c) and free(r + 1, c)) or (free(r, c - 1) and free(r, c + 1))


def noisy_perfect(h: int, w: int, rng: random.Random) -> Walls:
    """A perfect maze with random cells flipped: broken walls and stray blocks, as a hand edit leaves."""
    walls = perfect(h, w, rng)
    p = rng.uniform(0.03, 0.15)
    return [[(not cell) if rng.random() < p else cell for cell in row] for row in walls]


def rooms(h: int, w: int, rng: random.Random) -> Walls:
    """Open rooms split by straight walls, each wall with one or two doors."""
    walls = [[False] * w for _ in range(h)]
    smallest = rng.randint(2, 4)

    def split(r0: int, r1: int, c0: int, c1: int) -> None:  # inclusive cell ranges of one room
        tall, wide = r1 - r0 + 1, c1 - c0 + 1
        can_rows, can_cols = tall >= 2 * smallest + 1, wide >= 2 * smallest + 1
        if not (can_rows or can_cols):
            return
        if can_rows and (not can_cols or tall > wide or (tall == wide and rng.random() < 0.5)):
            k = rng.randint(r0 + smallest, r1 - smallest)
            doors = set(rng.sample(range(c0, c1 + 1), k=min(wide, rng.randint(1, 2))))
            for c in range(c0, c1 + 1):
                walls[k][c] = c not in doors
            split(r0, k - 1, c0, c1)
            split(k + 1, r1, c0, c1)
        else:
            k = rng.randint(c0 + smallest, c1 - smallest)
            doors = set(rng.sample(range(r0, r1 + 1), k=min(tall, rng.randint(1, 2))))
            for r in range(r0, r1 + 1):
                walls[r][k] = r not in doors
            split(r0, r1, c0, k - 1)
            split(r0, r1, k + 1, c1)

    split(0, h - 1, 0, w - 1)
    return walls


def open_field(h: int, w: int, rng: random.Random) -> Walls:
    """Few walls: scattered blocks and a short wall segment or two."""
    walls = random_walls(h, w, rng, density=(0.0, 0.08))
    for _ in range(rng.randint(0, 2)):
        r, c = rng.randrange(h), rng.randrange(w)
        dr, dc = rng.choice(((0, 1), (1, 0)))
        for k in range(rng.randint(2, max(2, max(h, w) // 2))):
            if 0 <= r + k * dr < h and 0 <= c + k * dc < w:
                walls[r + k * dr][c + k * dc] = True
    return walls


def cellular(h: int, w: int, rng: random.Random) -> Walls:
    """A cave grown by the "Maze" cellular automaton (a free cell is born with exactly three free neighbours
    and survives with one to five) from a random seed patch: winding, irregular passages."""
    p = rng.uniform(0.3, 0.6)
    free = [[rng.random() < p for _ in range(w)] for _ in range(h)]
    for _ in range(rng.randint(4, 12)):
        count = [
            [
                sum(free[a][b] for a in range(r - 1, r + 2) for b in range(c - 1, c + 2) if 0 <= a < h and 0 <= b < w)
                - free[r][c]
                for c in range(w)
            ]
            for r in range(h)
        ]
        free = [[count[r][c] == 3 or (free[r][c] and 1 <= count[r][c] <= 5) for c in range(w)] for r in range(h)]
    return [[not cell for cell in row] for row in free]


def _tree_family(name: str) -> Callable[[int, int, random.Random], Walls]:
    return lambda h, w, rng: perfect(h, w, rng, name)


# The first eleven families keep their order (seeded sets are drawn family by family, in this order).
FAMILIES: dict[str, Callable[[int, int, random.Random], Walls]] = {
    "random": lambda h, w, rng: random_walls(h, w, rng, density=(0.2, 0.3)),
    "percolation": random_walls,
    **{name: _tree_family(name) for name in ("backtracker", "kruskal", "prim", "wilson", "division")},
    "braided": braided,
    "noisy": noisy_perfect,
    "rooms": rooms,
    "open": open_field,
    **{name: _tree_family(name) for name in TREES if name not in FIRST_TREES},
    "cellular": cellular,
}


# -- start and goal -------------------------------------------------------------------------------


def place_ends(walls: Walls, rng: random.Random) -> Maze | None:
    """Start and goal on free cells, the goal reachable: uniformly, at dead ends, or far apart.
    None when fewer than two cells are free and connected."""
    h, w = len(walls), len(walls[0])
    maze = Maze(walls, (0, 0), (0, 0))
    free = [(r, c) for r in range(h) for c in range(w) if not walls[r][c]]
    if len(free) < 2:
        return None
    maze.start = _pick(maze, free, rng)
    reach = [cell for cell in bfs(maze, maze.start) if cell != maze.start]
    if not reach:
        return None
    maze.goal = _pick(maze, reach, rng, source=maze.start)
    return maze


def _pick(maze: Maze, cells: list[Cell], rng: random.Random, source: Cell | None = None) -> Cell:
    """A uniform cell half the time, else a dead end, or (given a source) one of the farthest quarter."""
    u = rng.random()
    if u < 0.2:
        ends = [cell for cell in cells if len(maze.neighbours(cell)) <= 1]
        if ends:
            return rng.choice(ends)
    if u > 0.5 and source is not None:
        dist = bfs(maze, source)
        far = sorted(cells, key=dist.__getitem__)[-max(1, len(cells) // 4) :]
        return rng.choice(far)
    return rng.choice(cells)


def make(h: int, w: int, rng: random.Random, family: str | None = None) -> Maze:
    """A solvable h×w maze of `family` (one of FAMILIES), or of a family drawn uniformly when None."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown maze family {family!r}; choose from {', '.join(FAMILIES)}")
    while True:
        maze = place_ends(FAMILIES[family or rng.choice(list(FAMILIES))](h, w, rng), rng)
        if maze is not None:
            return maze


def ringed(h: int, w: int, rng: random.Random, tree: str | None = None) -> Maze:
    """A perfect maze as maze libraries print one: nodes on the odd rows and columns inside a ring of walls,
    start and goal opened in the ring next to a node (h and w odd, at least 5). Not one of FAMILIES: the
    bench's check of mazes laid out by other generators."""
    if h % 2 == 0 or w % 2 == 0 or min(h, w) < 5:
        raise ValueError(f"a ringed maze needs odd sides of at least 5, not {h}x{w}")
    lattice = Lattice(h, w, rng, offset=(1, 1))
    walls = lattice.carve(TREES[tree or rng.choice(list(TREES))](lattice, rng))
    doors = [(r, c) for r in (0, h - 1) for c in range(1, w, 2)] + [(r, c) for c in (0, w - 1) for r in range(1, h, 2)]
    start, goal = rng.sample(doors, 2)
    for r, c in (start, goal):
        walls[r][c] = False
    return Maze(walls, start, goal)


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

"""Perfect mazes: spanning trees of a lattice of nodes, one algorithm per kind of maze.

A perfect maze has exactly one path between any two free cells. Its nodes sit on every other row and column
(offset 0 or 1, so corridors may touch the border or not); a wall between two nodes is knocked out for each
edge of a spanning tree. The algorithms differ in the statistics they leave (long corridors for the depth-first
backtracker and hunt-and-kill, many short dead ends for Prim, uniform trees for Wilson and Aldous-Broder, a
diagonal bias for the binary tree, one corridor through every node for the spiral and the serpentine), which
is why the training mix has them all.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Walls = list[list[bool]]
Node = tuple[int, int]
Edge = tuple[Node, Node]


class Lattice:
    """Nodes of a perfect maze on the grid: (i, j) sits at row oy + 2i, column ox + 2j."""

    def __init__(self, h: int, w: int, rng: random.Random, offset: tuple[int, int] | None = None):
        self.h, self.w = h, w
        if offset is None:  # the row offset is drawn first: seeded mazes stay as they were
            offset = (rng.randrange(2) if h > 2 else 0, rng.randrange(2) if w > 2 else 0)
        self.oy, self.ox = offset
        self.rows = (h - self.oy + 1) // 2
        self.cols = (w - self.ox + 1) // 2

    def nodes(self) -> list[Node]:
        return [(i, j) for i in range(self.rows) for j in range(self.cols)]

    def neighbours(self, node: Node) -> list[Node]:
        i, j = node
        near = ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
        return [(a, b) for a, b in near if 0 <= a < self.rows and 0 <= b < self.cols]

    def edges(self) -> list[Edge]:
        return [(n, m) for n in self.nodes() for m in self.neighbours(n) if n < m]

    def carve(self, edges: list[Edge]) -> Walls:
        """All walls, then the nodes and the passage cell of every edge opened."""
        walls = [[True] * self.w for _ in range(self.h)]
        for i, j in self.nodes():
            walls[self.oy + 2 * i][self.ox + 2 * j] = False
        for (i, j), (a, b) in edges:
            walls[self.oy + i + a][self.ox + j + b] = False
        return walls


def backtracker_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Depth-first search with random neighbour order: long winding corridors, few branches."""
    start = rng.choice(lat.nodes())
    seen, stack, edges = {start}, [start], []
    while stack:
        fresh = [m for m in lat.neighbours(stack[-1]) if m not in seen]
        if not fresh:
            stack.pop()
            continue
        nxt = rng.choice(fresh)
        edges.append((stack[-1], nxt))
        seen.add(nxt)
        stack.append(nxt)
    return edges


def kruskal_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Edges in random order, each kept when it joins two components (union-find)."""
    parent = {n: n for n in lat.nodes()}

    def root(n: Node) -> Node:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    edges = lat.edges()
    rng.shuffle(edges)
    tree = []
    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
            tree.append((a, b))
    return tree


def prim_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Grow one tree by a random frontier edge at a time: short branches, many dead ends."""
    start = rng.choice(lat.nodes())
    inside = {start}
    frontier = [(start, m) for m in lat.neighbours(start)]
    tree = []
    while frontier:
        a, b = frontier.pop(rng.randrange(len(frontier)))
        if b in inside:
            continue
        inside.add(b)
        tree.append((a, b))
        frontier.extend((b, m) for m in lat.neighbours(b) if m not in inside)
    return tree


def wilson_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Loop-erased random walks: a uniform spanning tree."""
    nodes = lat.nodes()
    inside = {rng.choice(nodes)}
    tree = []
    for node in nodes:
        step: dict[Node, Node] = {}  # last exit of each visited node: the loop-erased walk
        cur = node
        while cur not in inside:
            step[cur] = rng.choice(lat.neighbours(cur))
            cur = step[cur]
        cur = node
        while cur not in inside:
            inside.add(cur)
            tree.append((cur, step[cur]))
            cur = step[cur]
    return tree


def division_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Recursive division: split the node rectangle by a wall with one door, recurse on both halves."""
    cut: set[Edge] = set()

    def divide(r0: int, r1: int, c0: int, c1: int) -> None:  # inclusive node ranges
        tall, wide = r1 - r0, c1 - c0
        if tall == 0 and wide == 0:
            return
        if tall > wide or (tall == wide and rng.random() < 0.5):
            k = rng.randrange(r0, r1)  # wall between node rows k and k + 1
            door = rng.randint(c0, c1)
            cut.update(((k, j), (k + 1, j)) for j in range(c0, c1 + 1) if j != door)
            divide(r0, k, c0, c1)
            divide(k + 1, r1, c0, c1)
        else:
            k = rng.randrange(c0, c1)
            door = rng.randint(r0, r1)
            cut.update(((i, k), (i, k + 1)) for i in range(r0, r1 + 1) if i != door)
            divide(r0, r1, c0, k)
            divide(r0, r1, k + 1, c1)

    divide(0, lat.rows - 1, 0, lat.cols - 1)
    return [e for e in lat.edges() if e not in cut]


def aldous_broder_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """A random walk that keeps the edge into every node it enters first: uniform, like Wilson's."""
    cur = rng.choice(lat.nodes())
    seen, tree = {cur}, []
    while len(seen) < lat.rows * lat.cols:
        nxt = rng.choice(lat.neighbours(cur))
        if nxt not in seen:
            seen.add(nxt)
            tree.append((cur, nxt))
        cur = nxt
    return tree


def hunt_and_kill_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Walk to fresh nodes until stuck, then hunt row by row for a fresh node beside the maze: long corridors."""
    cur = rng.choice(lat.nodes())
    seen, tree = {cur}, []
    while cur is not None:
        fresh = [m for m in lat.neighbours(cur) if m not in seen]
        if fresh:
            nxt = rng.choice(fresh)
            tree.append((cur, nxt))
            seen.add(nxt)
            cur = nxt
            continue
        cur = None
        for node in lat.nodes():
            inside = [m for m in lat.neighbours(node) if m in seen]
            if node not in seen and inside:
                tree.append((rng.choice(inside), node))
                seen.add(node)
                cur = node
                break
    return tree


def growing_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Grow from the newest active node with probability p, else from a random one: between the
    backtracker (p = 1) and Prim (p = 0), p drawn per maze."""
    newest = rng.random()
    start = rng.choice(lat.nodes())
    seen, active, tree = {start}, [start], []
    while active:
        k = len(active) - 1 if rng.random() < newest else rng.randrange(len(active))
        fresh = [m for m in lat.neighbours(active[k]) if m not in seen]
        if not fresh:
            active.pop(k)
            continue
        nxt = rng.choice(fresh)
        tree.append((active[k], nxt))
        seen.add(nxt)
        active.append(nxt)
    return tree


def binary_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Every node opens towards one of two fixed directions (a corner pair drawn per maze): two open
    sides, a strong diagonal bias."""
    di, dj = rng.choice((-1, 1)), rng.choice((-1, 1))
    tree = []
    for i, j in lat.nodes():
        options = [m for m in ((i + di, j), (i, j + dj)) if 0 <= m[0] < lat.rows and 0 <= m[1] < lat.cols]
        if options:
            tree.append(((i, j), rng.choice(options)))
    return tree


def sidewinder_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Row by row: runs carved sideways, each run closed by one passage into the previous row."""
    tree = []
    for i in range(lat.rows):
        run = [(i, 0)]
        for j in range(1, lat.cols + 1):
            close = j == lat.cols or (i > 0 and rng.random() < 0.5)
            if close:
                if i > 0:
                    a, b = rng.choice(run)
                    tree.append(((a, b), (a - 1, b)))
                run = [(i, j)]
            else:
                tree.append(((i, j - 1), (i, j)))
                run.append((i, j))
    return tree


def eller_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """Eller's algorithm: one row at a time, sets joined sideways at random, every set going down at least
    once; the last row joins what is left."""
    label = {(0, j): j for j in range(lat.cols)}
    fresh = lat.cols
    tree = []
    for i in range(lat.rows):
        last = i == lat.rows - 1
        for j in range(lat.cols - 1):
            a, b = label[(i, j)], label[(i, j + 1)]
            if a != b and (last or rng.random() < 0.5):
                tree.append(((i, j), (i, j + 1)))
                for k in range(lat.cols):
                    if label[(i, k)] == b:
                        label[(i, k)] = a
        if last:
            break
        groups: dict[int, list[int]] = {}
        for j in range(lat.cols):
            groups.setdefault(label[(i, j)], []).append(j)
        for name, cols in groups.items():
            down = [j for j in cols if rng.random() < 0.4] or [rng.choice(cols)]
            for j in down:
                tree.append(((i, j), (i + 1, j)))
                label[(i + 1, j)] = name
        for j in range(lat.cols):
            if (i + 1, j) not in label:
                label[(i + 1, j)] = fresh
                fresh += 1
    return tree


def spiral_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """One corridor through every node, spiralling in from a random corner and turning either way: the
    longest paths a 9×9 maze can hold, start and goal often a wall apart."""
    top, bottom, left, right = 0, lat.rows - 1, 0, lat.cols - 1
    order = []
    while top <= bottom and left <= right:
        order += [(top, j) for j in range(left, right + 1)]
        order += [(i, right) for i in range(top + 1, bottom + 1)]
        if top < bottom:
            order += [(bottom, j) for j in range(right - 1, left - 1, -1)]
        if left < right:
            order += [(i, left) for i in range(bottom - 1, top, -1)]
        top, bottom, left, right = top + 1, bottom - 1, left + 1, right - 1
    return _oriented_path(lat, order, rng)


def serpentine_tree(lat: Lattice, rng: random.Random) -> list[Edge]:
    """One corridor through every node, row after row, turning at each end (a boustrophedon)."""
    order = [(i, j if i % 2 == 0 else lat.cols - 1 - j) for i in range(lat.rows) for j in range(lat.cols)]
    return _oriented_path(lat, order, rng)


def _oriented_path(lat: Lattice, order: list[Node], rng: random.Random) -> list[Edge]:
    """The edges of a path through `order`, mirrored and transposed at random (square lattices only transpose)."""
    flip_i, flip_j = rng.random() < 0.5, rng.random() < 0.5
    transpose = lat.rows == lat.cols and rng.random() < 0.5

    def place(node: Node) -> Node:
        i, j = node
        i, j = (lat.rows - 1 - i if flip_i else i), (lat.cols - 1 - j if flip_j else j)
        return (j, i) if transpose else (i, j)

    return [(place(a), place(b)) for a, b in zip(order[:-1], order[1:], strict=True)]


TREES: dict[str, Callable[[Lattice, random.Random], list[Edge]]] = {
    "backtracker": backtracker_tree,
    "kruskal": kruskal_tree,
    "prim": prim_tree,
    "wilson": wilson_tree,
    "division": division_tree,
    "aldous-broder": aldous_broder_tree,
    "hunt-and-kill": hunt_and_kill_tree,
    "growing-tree": growing_tree,
    "binary-tree": binary_tree,
    "sidewinder": sidewinder_tree,
    "eller": eller_tree,
    "spiral": spiral_tree,
    "serpentine": serpentine_tree,
}


FIRST_TREES = ("backtracker", "division", "kruskal", "prim", "wilson")  # the trees braided and noisy mazes start from


def perfect(h: int, w: int, rng: random.Random, tree: str | None = None) -> Walls:
    """A perfect maze (exactly one path between any two free cells) from one spanning-tree algorithm
    (`tree`, or one of FIRST_TREES drawn at random, so that seeded sets stay the same as trees are added)."""
    lat = Lattice(h, w, rng)
    return lat.carve(TREES[tree or rng.choice(FIRST_TREES)](lat, rng))

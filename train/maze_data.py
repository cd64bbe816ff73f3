"""Training data for the maze task: fresh mazes every batch, each with a shortest path, or a path through
a waypoint pinned on, or around a cell pinned off, so that a user's pins are in the training distribution."""

from __future__ import annotations

import random
from collections.abc import Callable

import torch
from torch import Tensor

from sigma.tasks.maze.families import generate
from sigma.tasks.maze.grid import Maze, encode
from sigma.tasks.maze.search import bfs, random_shortest_path, training_path


def around_the_wall(maze: Maze) -> Maze:
    """The goal moved to the cell near the start (two steps or fewer as the crow flies) that is farthest
    from it by path: a goal just behind a wall, the case that tempts a solver into a short cut."""
    dist = bfs(maze, maze.start)
    (r, c) = maze.start
    near = [cell for cell in dist if 0 < abs(cell[0] - r) + abs(cell[1] - c) <= 2]
    if near:
        goal = max(near, key=dist.__getitem__)
        if dist[goal] > 4:
            maze.goal = goal
    return maze


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
    around_share: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """tokens [B, 2HW] and known [B, 2HW] (maze cells and pins), for training with loss on path cells;
    mazes from `maker` (for example `sigma.tasks.maze.families.make`, the mix), a share `around_share` of
    them with the goal moved behind a wall from the start (`around_the_wall`)."""
    rng = random.Random(int(torch.randint(0, 2**62, (1,), generator=gen)))
    rows = []
    for _ in range(batch):
        maze = maker(h, w, rng)
        if around_share and rng.random() < around_share:
            maze = around_the_wall(maze)
        path = training_example(maze, rng, waypoint_share)
        rows.append(encode(maze, path))
    return torch.stack([t for t, _ in rows]), torch.stack([k for _, k in rows])

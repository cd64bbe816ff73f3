"""Mazes as a `sigma.task.Task`, the examples the page offers, and `solve`, the Python API on top of it."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from sigma.settings import Settings
from sigma.tasks.maze.families import generate, make
from sigma.tasks.maze.grid import OFF, ON, TOKEN_NAMES, VOCAB_SIZE, Maze, cell_of, encode, parse, path_cells, render
from sigma.tasks.maze.search import Verdict, check, training_path, unsolvable_reason
from sigma.tries import sample_tries


def grid_of(model) -> tuple[int, int]:
    grid = getattr(model.config, "grid", None)
    if grid is None or len(grid) != 3 or grid[0] != 2:
        raise ValueError("this model is not a maze model (its config has no (2, H, W) grid)")
    return grid[1], grid[2]


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
    tries_valid: int | None = None  # with tries > 1: how many candidates were valid


def solve(
    model,
    ascii_maze: str,
    *,
    sampler: str = "exact",
    seed: int = 0,
    temperature: float = 0.0,
    order: str = "random",
    num_orders: int = 5,
    tries: int = 1,
) -> SolveResult:
    """Solve one ASCII maze as the page does, through the task protocol: parse, check, sample the path (with
    `tries` > 1, that many candidates in one batch and the likeliest valid one kept, then, if none is valid, the
    tab's retry batch: `TASK.defaults.retry`, see `sigma.tries`), judge. Bad input raises ValueError."""
    maze = TASK.parse(ascii_maze, model)
    problem = TASK.problem(maze)
    if problem:
        return SolveResult(render(maze), False, False, False, 0, 0, 0, None, problem)
    settings = {"sampler": sampler, "order": order, "temperature": temperature, "num_orders": num_orders, "seed": seed}
    tokens, known = (t.to(model.device) for t in TASK.encode(maze))
    forbid = TASK.forbid(maze).to(model.device)
    accept = functools.partial(TASK.accept, maze)
    retry = TASK.defaults.retry
    out, chosen = sample_tries(model, tokens, known, accept, tries, forbid=forbid, retry=retry, **settings)
    row = chosen.row  # in the batch it was drawn in
    verdict = TASK.verdict(maze, chosen.tokens[chosen.chosen])
    return SolveResult(
        verdict.solution,
        verdict.valid,
        verdict.optimal,
        verdict.violates_pins,
        int(out.model_calls[row]),
        int(out.steps[row]),
        verdict.length,
        verdict.shortest,
        verdict.sentence,
        chosen.n_valid if tries > 1 else None,
    )


def examples(shape: tuple[int, int] = (9, 9)) -> list[str]:
    """Seeded mazes of several families, one with a pin a valid path passes through, and one that
    cannot be solved (to see the message)."""
    plain = [render(make(*shape, random.Random(seed), family)) for seed, family in EXAMPLE_FAMILIES]
    rng = random.Random(3)
    via = None
    while via is None:
        maze = make(*shape, rng, "braided")
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
    valid_means = "one simple path of free cells from S to G that keeps every pin"
    # chosen on the tuning set (docs/maze.md): 8 tries in confidence order, and when none is valid 8 in random orders
    defaults = Settings(
        sampler="exact-confident", temperature=0.7, tries=8, retry=Settings(sampler="exact", temperature=1.0, tries=8)
    )
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

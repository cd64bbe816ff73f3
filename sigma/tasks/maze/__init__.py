"""Maze path solving as a σ-GPT task, one concept per module:

- `grid`: the maze (cells, walls, start, goal, pins), its tokens and its ASCII;
- `search`: shortest paths, paths through a waypoint, the checks of an answer, the solvability search;
- `families`: the maze generators a user meets (random walls, perfect mazes, braided, rooms, ...);
- `task`: the `Task` the app and the API hold, the page's examples, and `solve`.

The names below are the package's public API (`from sigma.tasks import maze as mz; mz.parse(...)`).
"""

from sigma.tasks.maze.families import FAMILIES, generate, make
from sigma.tasks.maze.grid import (
    FREE,
    GOAL,
    MAX_PINS,
    OFF,
    ON,
    START,
    TOKEN_NAMES,
    VOCAB_SIZE,
    WALL,
    Cell,
    Maze,
    cell_of,
    encode,
    maze_tokens,
    parse,
    path_cells,
    path_index,
    pin,
    render,
)
from sigma.tasks.maze.search import (
    Solvability,
    Verdict,
    bfs,
    check,
    find_path,
    is_simple_path,
    random_shortest_path,
    shortest_length_under_pins,
    training_path,
    unsolvable_reason,
)
from sigma.tasks.maze.task import EXAMPLE_FAMILIES, TASK, MazeTask, SolveResult, examples, grid_of, solve

__all__ = [
    "EXAMPLE_FAMILIES",
    "FAMILIES",
    "FREE",
    "GOAL",
    "OFF",
    "ON",
    "START",
    "TASK",
    "TOKEN_NAMES",
    "MAX_PINS",
    "VOCAB_SIZE",
    "WALL",
    "Cell",
    "Maze",
    "MazeTask",
    "Solvability",
    "SolveResult",
    "Verdict",
    "bfs",
    "cell_of",
    "check",
    "encode",
    "examples",
    "find_path",
    "generate",
    "grid_of",
    "is_simple_path",
    "make",
    "maze_tokens",
    "parse",
    "path_cells",
    "path_index",
    "pin",
    "random_shortest_path",
    "render",
    "shortest_length_under_pins",
    "solve",
    "training_path",
    "unsolvable_reason",
]

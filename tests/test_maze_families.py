"""Maze families and the exact solvability check under pins."""

import argparse
import itertools
import random

import pytest

from sigma.tasks import maze as mz
from sigma.tasks.maze import families as mf


@pytest.mark.parametrize("family", list(mf.FAMILIES))
def test_every_family_yields_solvable_mazes_of_any_shape(family):
    rng = random.Random(0)
    for h, w in ((9, 9), (13, 21), (5, 8)):
        for _ in range(10):
            maze = mf.make(h, w, rng, family)
            assert maze.shape == (h, w)
            assert maze.start != maze.goal and maze.free(maze.start) and maze.free(maze.goal)
            assert maze.goal in mz.bfs(maze, maze.start)


@pytest.mark.parametrize("tree", list(mf.TREES))
def test_perfect_mazes_are_spanning_trees_of_their_lattice(tree):
    """One path between any two free cells: the free cells are connected and have one edge fewer than cells."""
    rng = random.Random(1)
    for _ in range(20):
        walls = mf.perfect(9, 9, rng, tree)
        maze = mz.Maze(walls, (0, 0), (0, 0))
        free = [(r, c) for r in range(9) for c in range(9) if not walls[r][c]]
        edges = sum(len(maze.neighbours(cell)) for cell in free) // 2
        assert edges == len(free) - 1
        assert len(mz.bfs(maze, free[0])) == len(free)


def test_the_mix_draws_every_family_and_ends_anywhere():
    rng = random.Random(2)
    mazes = [mf.make(9, 9, rng) for _ in range(300)]
    lengths = {mz.bfs(m, m.start)[m.goal] for m in mazes}
    assert 1 in lengths and max(lengths) >= 30  # neighbours and long corridors both occur
    assert any(len(m.neighbours(m.start)) == 1 for m in mazes)  # dead-end starts occur


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="unknown maze family 'labyrinth'"):
        mf.make(9, 9, random.Random(0), "labyrinth")


def _brute_force_solvable(maze: mz.Maze) -> bool:
    """Some set of on-cells passes `check`: every subset of the free cells tried."""
    h, w = maze.shape
    must = {maze.start, maze.goal} | maze.pins_on
    optional = [(r, c) for r in range(h) for c in range(w) if maze.free((r, c))]
    optional = [cell for cell in optional if cell not in must and cell not in maze.pins_off]
    for picks in itertools.product((False, True), repeat=len(optional)):
        on = must | {cell for cell, pick in zip(optional, picks, strict=True) if pick}
        if mz.check(maze, on).valid:
            return True
    return False


def test_solvability_agrees_with_brute_force_on_small_grids():
    rng = random.Random(5)
    solvable = 0
    for _ in range(150):
        h, w = rng.choice([(3, 4), (4, 4), (3, 5)])
        maze = mf.make(h, w, rng, rng.choice(["open", "percolation", "rooms", "backtracker"]))
        free = [
            (r, c) for r in range(h) for c in range(w) if maze.free((r, c)) and (r, c) not in (maze.start, maze.goal)
        ]
        rng.shuffle(free)
        k = rng.randint(0, min(3, len(free)))
        maze.pins_on, maze.pins_off = set(free[:k]), set(free[k : k + rng.randint(0, 2)])
        answer = mz.find_path(maze)
        assert answer.decided
        assert (answer.path is not None) == _brute_force_solvable(maze), mz.render(maze)
        if answer.path is not None:
            solvable += 1
            assert mz.check(maze, set(answer.path)).valid
    assert 30 < solvable < 140  # both answers were exercised


@pytest.mark.parametrize(
    "ascii_maze,reason",
    [
        ("S...\n.##.\n.#+#\n...G", "row 3, column 3 has fewer than two open neighbours"),  # a corner pocket
        ("S...\n+x+x\n...G", "no single path"),  # a +x+x row: the pins cannot be joined without touching
        ("S.x.\n..x.\nxx..\n...G", "pinned off cut"),
    ],
)
def test_unsolvable_pin_sets_are_explained(ascii_maze, reason):
    maze = mz.parse(ascii_maze)
    assert _brute_force_solvable(maze) is False
    assert reason in mz.unsolvable_reason(maze)


def test_the_search_is_bounded():
    """An open field with scattered pins: the search answers (perhaps 'could not decide') within its budget."""
    maze = mz.parse("\n".join(["S" + "." * 8] + ["." * 9] * 7 + ["." * 8 + "G"]))
    for cell in ((2, 1), (2, 3), (4, 5), (6, 7), (1, 6), (7, 2)):
        mz.pin(maze, cell, on=True)
    answer = mz.find_path(maze, budget=50)
    assert answer.decided is False or answer.path is not None or answer.reason


def test_every_shipped_example_is_solvable_or_meant_not_to_be():
    examples = mz.examples()
    for ascii_maze in examples[:-1]:
        answer = mz.find_path(mz.parse(ascii_maze))
        assert answer.decided and answer.path is not None, ascii_maze
    assert mz.unsolvable_reason(mz.parse(examples[-1]))  # the last one shows the unsolvable message


def test_ringed_mazes_are_perfect_mazes_in_a_ring_of_walls_with_start_and_goal_in_it():
    rng = random.Random(0)
    for _ in range(50):
        maze = mf.ringed(9, 9, rng)
        ring = {(r, c) for r in range(9) for c in range(9) if r in (0, 8) or c in (0, 8)}
        assert maze.start in ring and maze.goal in ring and mz.unsolvable_reason(maze) is None
        assert all(maze.walls[r][c] for r, c in ring - {maze.start, maze.goal})
        free = sum(not cell for row in maze.walls for cell in row)
        assert free == 16 + 15 + 2  # 4x4 nodes, the 15 passages of a spanning tree, two doors
    with pytest.raises(ValueError, match="odd sides"):
        mf.ringed(8, 9, rng)


def test_maze_bench_reports_every_family_and_keeps_its_top_level_keys(tmp_path):
    """The bench on tiny untrained models: the JSON keys outside checks read, per family and overall."""
    import torch

    from sigma import SigmaConfig, SigmaGPT
    from train import bench_maze

    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=mz.VOCAB_SIZE, block_size=162, n_layer=1, n_head=2, n_embd=16, grid=(2, 9, 9))
    for name in ("sigma", "base"):
        SigmaGPT(config).save_pretrained(tmp_path / name)
    parser = argparse.ArgumentParser()
    bench_maze.add_arguments(parser)
    flags = ["--checkpoint", str(tmp_path / "sigma"), "--baseline", str(tmp_path / "base"), "--n", "2"]
    result = bench_maze.run(parser.parse_args([*flags, "--per-family", "1", "--threads", "0", "--json"]))
    assert {"samplers", "baseline_l2r", "speedup", "pinned", "grid", "path_cells", "families", "mix"} <= result.keys()
    assert set(result["ringed"]) == {"n", "exact-confident", "verified", "baseline_l2r"}
    assert set(result["families"]) == set(mf.FAMILIES)
    assert "exact-confident/unwindowed" in result["samplers"] and "slots" in result["samplers"]["exact"]
    row = result["families"]["backtracker"]
    assert {"valid", "optimal", "model_calls", "model_calls_p50", "ms_p50"} <= row["exact-confident"].keys()
    assert set(row["pinned"]) == {"n", "exact", "exact-confident", "verified"}
    assert {"valid", "optimal", "tries", "model_calls", "ms_p50", "valid_share_of_tries"} <= row["verified"].keys()
    assert row["verified"]["tries"] == mz.TASK.defaults.tries and "verified" in result["mix"]


def test_the_tries_curve_reports_every_setting(tmp_path):
    import torch

    from sigma import SigmaConfig, SigmaGPT
    from train import bench_maze

    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=mz.VOCAB_SIZE, block_size=162, n_layer=1, n_head=2, n_embd=16, grid=(2, 9, 9))
    curve = ((1, 0.0, "auto"), (2, 0.5, None))
    rows = bench_maze.tries_curve(SigmaGPT(config).eval(), 1, lambda *a: None, curve)
    assert [(r["tries"], r["temperature"], r["window"]) for r in rows] == list(curve)
    assert all(0 <= r["valid"] <= 1 and r["worst_family"] in mf.FAMILIES and r["ms_p50"] > 0 for r in rows)


def test_around_the_wall_puts_the_goal_near_the_start_and_far_by_path():
    """Training's hard placement: the goal moves to a cell at most two cells from the start as the crow flies
    and more than four steps away along the corridors, or stays where it was when no cell is both."""
    from sigma.tasks.maze.search import bfs
    from train.maze_data import around_the_wall

    rng = random.Random(3)
    moved = 0
    for _ in range(20):
        maze = mf.make(9, 9, rng, "spiral")
        before = maze.goal
        around_the_wall(maze)
        (r, c), (gr, gc) = maze.start, maze.goal
        if maze.goal != before:
            moved += 1
            assert abs(r - gr) + abs(c - gc) <= 2 and bfs(maze, maze.start)[maze.goal] > 4
    assert moved >= 10, moved  # spiral corridors lie a wall apart almost everywhere

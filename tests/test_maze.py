import random

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks import maze as mz
from train import maze_data

HAND_DRAWN = """
S..#.....
.#.#.###.
.#...#...
.####.#.#
......#..
.#.####..
.#......#
.####.#..
......#.G
"""


def test_generated_mazes_are_solvable_and_far_apart():
    rng = random.Random(0)
    for _ in range(50):
        maze = mz.generate(9, 9, rng)
        dist = mz.bfs(maze, maze.start)
        assert dist[maze.goal] >= 9
        assert mz.unsolvable_reason(maze) is None


def test_training_paths_are_valid_and_waypoint_paths_pass_the_waypoint():
    rng = random.Random(1)
    saw_waypoint = False
    for _ in range(100):
        maze = mz.generate(9, 9, rng)
        path, via = mz.training_path(maze, rng, waypoint_share=0.5)
        assert mz.is_simple_path(maze, set(path)), mz.render(maze, set(path))
        if via is None:
            assert len(path) == mz.bfs(maze, maze.start)[maze.goal] + 1
        else:
            saw_waypoint = True
            assert via in path
            maze.pins_on = {via}
            assert mz.check(maze, set(path)).valid
    assert saw_waypoint


def test_shortest_paths_are_uniform_over_ties():
    """In an open 3x3 grid corner to corner there are 6 shortest paths; each should appear ~1/6."""
    maze = mz.Maze([[False] * 3 for _ in range(3)], (0, 0), (2, 2))
    rng = random.Random(2)
    counts = {}
    for _ in range(6000):
        key = tuple(mz.random_shortest_path(maze, maze.start, maze.goal, rng))
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 6
    assert all(abs(c - 1000) < 150 for c in counts.values())  # binomial sd ≈ 29: ±150 is > 5 sd


def test_validity_and_optimality_checks():
    maze = mz.parse(HAND_DRAWN)
    path = mz.random_shortest_path(maze, maze.start, maze.goal, random.Random(0))
    v = mz.check(maze, set(path))
    assert v.valid and v.optimal and v.length == v.shortest
    assert not mz.check(maze, set(path[:-1])).valid  # does not reach the goal
    assert not mz.check(maze, set(path) | {(8, 0)}).valid  # a stray cell
    maze.pins_off = {path[3]}
    v = mz.check(maze, set(path))
    assert v.violates_pins and not v.valid


def test_pins_change_the_shortest_length():
    maze = mz.parse(HAND_DRAWN.replace("S..#", "S.+#"))
    base = mz.parse(HAND_DRAWN)
    assert mz.shortest_length_under_pins(maze) >= mz.shortest_length_under_pins(base)


def test_ascii_round_trip_and_rendering():
    maze = mz.parse(HAND_DRAWN)
    assert mz.render(maze) == HAND_DRAWN.strip()
    path = mz.random_shortest_path(maze, maze.start, maze.goal, random.Random(0))
    drawn = mz.render(maze, set(path))
    assert drawn.count("*") == len(path) - 2 and drawn.count("S") == 1


@pytest.mark.parametrize(
    "text,message",
    [
        ("S..\n..\n..G", "ragged rows"),
        ("S.?\n...\n..G", "unknown character '?'"),
        ("...\n...\n..G", "exactly one start S"),
        ("S.G\n...\n..G", "exactly one goal G, found 2"),
        ("S.*\n...\n..G", r"pin cells with '\+'"),
        ("", "empty"),
        (
            "S++++++++\n" + "........+\n" * 7 + "........G",
            "at most 10 cells can be pinned on the path with '.+', found 15",
        ),
    ],
)
def test_bad_ascii_raises(text, message):
    with pytest.raises(ValueError, match=message):
        mz.parse(text)


def test_wrong_size_names_the_expected_size():
    with pytest.raises(ValueError, match="expects 9x9"):
        mz.parse("S..\n...\n..G", expected=(9, 9))


def _as_other_generators_print(text: str) -> dict[str, str]:
    """One maze as other maze generators and editors print it."""
    spaces = text.replace(".", " ")
    ring = "#" * (len(text.splitlines()[0]) + 2)
    return {
        "spaces for free cells, E for the goal": spaces.replace("G", "E"),
        "trailing spaces trimmed": "\n".join(line.rstrip() for line in spaces.splitlines()),
        "indented": "\n".join("    " + line for line in spaces.splitlines()),
        "Windows line ends, blank lines": "\r\n\r\n" + text.replace("\n", "\r\n\r\n") + "\r\n",
        "a ring of walls": "\n".join([ring, *("#" + line + "#" for line in spaces.splitlines()), ring]),
    }


@pytest.mark.parametrize("form", list(_as_other_generators_print(HAND_DRAWN.strip())))
def test_mazes_printed_by_other_generators_read_as_the_same_maze(form):
    text = _as_other_generators_print(HAND_DRAWN.strip())[form]
    assert mz.parse(text, expected=(9, 9)) == mz.parse(HAND_DRAWN, expected=(9, 9))


def test_a_door_in_the_ring_moves_to_the_cell_inside_it():
    rows = HAND_DRAWN.strip().replace("S", ".").splitlines()  # the start goes into the ring, above row 1, column 2
    ring = "#" * 11
    text = "\n".join(["##S" + ring[3:], *("#" + row + "#" for row in rows), ring])
    maze = mz.parse(text, expected=(9, 9))
    assert maze.shape == (9, 9) and maze.start == (0, 1) and maze.goal == (8, 8)
    corner = "S" + text[1:]  # a door in a corner has no cell inside: the ring stays, and the size is wrong
    with pytest.raises(ValueError, match="the maze is 11x11"):
        mz.parse(corner.replace("##S", "###", 1), expected=(9, 9))
    onto_a_wall = "\n".join([ring[:4] + "S" + ring[5:], *("#" + row + "#" for row in rows), ring])  # above a wall
    with pytest.raises(ValueError, match="the maze is 11x11"):
        mz.parse(onto_a_wall, expected=(9, 9))


def test_a_ring_of_walls_is_stripped_only_around_the_expected_size():
    ringed = _as_other_generators_print(HAND_DRAWN.strip())["a ring of walls"]
    with pytest.raises(ValueError, match="the maze is 11x11 but the model expects 7x7"):
        mz.parse(ringed, expected=(7, 7))
    assert mz.parse(ringed).shape == (11, 11)  # no size expected: the ring is part of the maze


def test_unsolvable_mazes_are_reported():
    walled = mz.parse("S.#..\n..#..\n###..\n.....\n....G")
    assert "cannot be reached" in mz.unsolvable_reason(walled)
    pinned = mz.parse("S.x..\n..x..\nxx...\n.....\n....G")
    assert "pinned off cut the start from the goal" in mz.unsolvable_reason(pinned)


def test_tokens_put_maze_first_and_pins_as_known_path_cells():
    maze = mz.parse(HAND_DRAWN.replace("S..#", "S.+#").replace(".....#", "x....#", 1))
    tokens, known = mz.encode(maze)
    assert tokens.shape == known.shape == (162,)
    assert known[:81].all() and known[81:].sum() == 2
    assert tokens[81 + 2] == mz.ON and tokens[81].item() == mz.OFF  # pin on at (0,2); start not pinned


@pytest.fixture(scope="module")
def tiny_maze_model():
    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=mz.VOCAB_SIZE, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    return SigmaGPT(config).eval()


def test_solve_runs_end_to_end_on_a_hand_drawn_maze(tiny_maze_model):
    result = mz.solve(tiny_maze_model, HAND_DRAWN, sampler="exact", seed=0)
    assert result.ascii.count("S") == 1 and result.model_calls >= 1
    assert result.message  # untrained: any verdict, but always a stated one
    with pytest.raises(ValueError, match="expects 9x9"):
        mz.solve(tiny_maze_model, "S..\n...\n..G")


WALLED_OFF = "\n".join(["S........"] + ["........."] * 6 + [".......##", ".......#G"])


def test_solve_reports_unsolvable_without_sampling(tiny_maze_model):
    result = mz.solve(tiny_maze_model, WALLED_OFF)
    said = "This maze cannot be solved: the goal cannot be reached from the start."  # the page's own sentence
    assert result.message == said and result.model_calls == 0


def test_solve_with_tries_keeps_the_likeliest_valid_candidate(tiny_maze_model):
    result = mz.solve(tiny_maze_model, HAND_DRAWN, sampler="exact", temperature=1.0, seed=0, tries=3)
    assert result.tries_valid is not None and 0 <= result.tries_valid <= 3
    assert result.valid == (result.tries_valid > 0)  # a valid candidate is always the one kept


def test_pins_are_checked():
    maze = mz.parse("S#.\n...\n..G")
    with pytest.raises(ValueError, match="wall at row 1, column 2"):
        mz.pin(maze, (0, 1), on=True)
    with pytest.raises(ValueError, match="outside"):
        mz.pin(maze, (5, 5), on=False)
    mz.pin(maze, (1, 1), on=True)
    assert maze.pins_on == {(1, 1)}
    mz.pin(maze, (1, 1), on=False)
    assert maze.pins_on == set() and maze.pins_off == {(1, 1)}


def test_training_examples_show_their_pins_and_respect_them():
    rng = random.Random(3)
    pinned = 0
    for _ in range(200):
        maze = mz.generate(9, 9, rng)
        path = maze_data.training_example(maze, rng, waypoint_share=0.3, avoid_share=0.3)
        assert mz.check(maze, set(path)).valid  # a valid path under the pins it was drawn with
        pinned += bool(maze.pins_on or maze.pins_off)
        tokens, known = mz.encode(maze, path)
        assert int(known[81:].sum()) == len(maze.pins_on) + len(maze.pins_off)
    assert 60 < pinned < 160

"""Verified tries: the checker agrees with the verdict, the choice keeps the likeliest valid candidate, a run
of several tries animates the kept one, and the shipped maze model solves every shipped example and a seeded
set of every family at the tab's default settings, through the page's own code path."""

from __future__ import annotations

import functools
import random

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.settings import Settings
from sigma.tasks import maze as mz
from sigma.tasks.maze import families as mf
from sigma.tries import choose, sample_tries
from views.runs import frames, start


@pytest.fixture(scope="module")
def tiny_maze_model() -> SigmaGPT:
    torch.manual_seed(0)
    cfg = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    return SigmaGPT(cfg).eval()


@pytest.fixture(scope="module")
def shipped() -> SigmaGPT:
    return SigmaGPT.from_pretrained("checkpoints/maze").eval()


def test_accept_agrees_with_check_on_right_and_wrong_paths():
    rng = random.Random(3)
    for k in range(60):
        maze = mf.make(9, 9, rng)
        path = mz.random_shortest_path(maze, maze.start, maze.goal, rng)
        on = set(path)
        if k % 3 == 1:  # a wrong answer: one cell missing or one cell too many
            on.discard(path[len(path) // 2])
        elif k % 3 == 2:
            on.add(rng.choice([(r, c) for r in range(9) for c in range(9) if maze.free((r, c))]))
        tokens = mz.encode(maze, on)[0].tolist()
        assert mz.TASK.accept(maze, tokens) == mz.check(maze, on).valid


def test_choose_keeps_the_likeliest_valid_candidate(tiny_maze_model):
    maze = mz.parse(mz.examples()[0])
    tokens, known = mz.encode(maze)
    out = sample(tiny_maze_model, tokens.expand(5, -1), known.expand(5, -1), sampler="exact", temperature=1.0)
    valid = [False, True, False, True, True]
    tries = choose(out.tokens, valid, out.log_likelihood)
    best_valid = max((i for i in range(5) if valid[i]), key=lambda i: out.log_likelihood[i])
    assert tries.chosen == best_valid and tries.n_valid == 3
    assert tries.log_likelihood == [round(float(x), 4) for x in out.log_likelihood]
    assert tries.summary() == "3 of 5 tries valid; the model's likeliest valid one is shown"
    none = choose(out.tokens, [False] * 5, out.log_likelihood)
    assert none.chosen == int(out.log_likelihood.argmax())
    assert none.summary().startswith("none of 5 tries valid")


def test_frames_of_several_tries_are_the_kept_rows(tiny_maze_model):
    maze = mz.parse(mz.examples()[0])
    tokens, known = mz.encode(maze)
    settings = Settings(sampler="exact", temperature=1.0, seed=4, tries=4)
    run = list(frames(tiny_maze_model, tokens, known, settings, accept=functools.partial(mz.TASK.accept, maze)))
    last = run[-1]
    assert last.finished and last.tries is not None and len(last.tries.valid) == 4
    assert last.tokens == last.tries.tokens[last.tries.chosen]  # the animation ends on the kept try
    assert [f.step for f in run] == list(range(len(run)))
    assert all(f.tries is None for f in run[:-1])
    # the same batch through the engine gives the same rows
    out, tries = sample_tries(
        tiny_maze_model,
        tokens,
        known,
        functools.partial(mz.TASK.accept, maze),
        4,
        sampler="exact",
        temperature=1.0,
        seed=4,
    )
    assert tries.tokens == last.tries.tokens and tries.chosen == last.tries.chosen
    # one try is today's single run: no Tries
    single = list(frames(tiny_maze_model, tokens, known, Settings(sampler="exact", temperature=1.0, seed=4)))
    assert single[-1].finished and single[-1].tries is None


def rejecting_first(n: int, accept):
    """`accept` that calls the first `n` candidates invalid, whatever they are: a first batch that fails."""
    seen = []

    def check(tokens: list[int]) -> bool:
        seen.append(tokens)
        return len(seen) > n and accept(tokens)

    return check


def test_a_retry_batch_runs_only_when_no_try_is_valid_and_is_the_shown_one(tiny_maze_model):
    maze = mz.parse(mz.examples()[0])
    tokens, known = mz.encode(maze)
    retry = Settings(sampler="exact", temperature=1.0, tries=3)
    settings = Settings(sampler="exact-confident", temperature=0.5, seed=7, tries=4, retry=retry)
    anything = functools.partial(mz.TASK.accept, maze)
    always = rejecting_first(4, lambda t: True)
    run = list(frames(tiny_maze_model, tokens, known, settings, accept=always))
    t = run[-1].tries
    assert t.first_batch == 4 and len(t.valid) == 7 and t.valid == [False] * 4 + [True] * 3 and t.chosen >= 4
    assert run[-1].tokens == t.tokens[t.chosen] and t.row == t.chosen - 4  # the animation is the kept retry row
    assert t.summary() == (
        "none of 4 tries valid, then 3 of 3 more (exact sampler, random order, temperature 1) valid; "
        "the model's likeliest valid one is shown"
    )
    from views.status import tries_strip

    strip = tries_strip(t, [f"<b>{i}</b>" for i in range(7)])  # the page's strip: the retry on a line of its own
    assert strip.index("<b>3</b>") < strip.index('class="retry"') < strip.index("<b>4</b>")
    # the retry's rows are the single runs of seeds 7 + 4 + i with the retry's settings
    for i in range(3):
        one = sample(tiny_maze_model, tokens[None], known[None], **retry.engine_kwargs() | {"seed": 11 + i})
        assert t.tokens[4 + i] == one.tokens[0].tolist()
    # the engine's sample_tries draws the same batches
    kwargs = settings.engine_kwargs()
    _, same = sample_tries(tiny_maze_model, tokens, known, rejecting_first(4, lambda t: True), 4, retry=retry, **kwargs)
    assert same.tokens == t.tokens and same.chosen == t.chosen
    # a first batch with a valid try, or a single try, never retries
    _, first_ok = sample_tries(tiny_maze_model, tokens, known, lambda t: True, 4, retry=retry, **kwargs)
    assert first_ok.first_batch == 0 and len(first_ok.valid) == 4
    _, single = sample_tries(tiny_maze_model, tokens, known, anything, 1, retry=retry, **kwargs)
    assert len(single.valid) == 1
    # none valid in either batch: said so, and the kept one is the second batch's likeliest
    _, none = sample_tries(tiny_maze_model, tokens, known, lambda t: False, 4, retry=retry, **kwargs)
    assert none.first_batch == 4 and none.chosen >= 4 and none.n_valid == 0
    assert none.summary().startswith("none of 4 tries valid, nor any of 3 more")
    assert none.summary().endswith("the model's likeliest one of the second batch is shown")


def test_every_shipped_example_is_solved_at_the_tab_defaults(shipped):
    """Through views.runs.start, as the page's Solve runs it."""
    for ascii_maze in mz.TASK.examples(shipped)[:-1]:  # the last one is unsolvable on purpose
        value, run = start(mz.TASK, shipped, ascii_maze, mz.TASK.defaults)
        last = list(run)[-1]
        assert mz.TASK.verdict(value, last.tokens).valid, ascii_maze


def test_verified_tries_solve_a_seeded_set_of_every_family(shipped):
    """8 mazes of every family (seeds apart from training validation, tuning and the bench's test sets), at the
    tab's defaults. The set is fixed, so the result is too; the bar is a regression guard, set before the
    retrained checkpoint was measured: with 20 families (160 mazes) the checkpoint shipped before this release
    found a valid path in 156 (one miss each in backtracker, wilson, hunt-and-kill and spiral), the shipped one in
    159; at most 3 misses, no family below 7 of 8. (The app's target, 99.5 %, is measured on 40 mazes a family by
    the bench, not here: at 99 % a set of 160 is all valid only 20 % of the time.)"""
    d = mz.TASK.defaults
    rng = random.Random(77)
    misses = []
    for family in mf.FAMILIES:
        for i in range(8):
            maze = mf.make(9, 9, rng, family)
            tokens, known = mz.encode(maze)
            accept = functools.partial(mz.TASK.accept, maze)
            _, tries = sample_tries(
                shipped,
                tokens,
                known,
                accept,
                d.tries,
                sampler=d.sampler,
                temperature=d.temperature,
                window=d.window,
                retry=d.retry,
                seed=i,
                forbid=mz.TASK.forbid(maze),
            )
            if not tries.valid[tries.chosen]:
                misses.append((family, i))
    worst = max((sum(f == family for f, _ in misses) for family in mf.FAMILIES), default=0)
    assert len(misses) <= 3 and worst <= 1, misses

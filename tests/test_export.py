"""Export of a run: the GIF opens with one image per frame and stays small, the JSON holds the API's events."""

from __future__ import annotations

import io
import json
import shutil

import pytest
import torch
from PIL import Image, ImageSequence

from sigma import SigmaConfig, SigmaGPT
from sigma.settings import Settings
from sigma.tasks import get
from sigma.tasks import maze as mz
from sigma.tasks import text as tx
from views import export, gif, maze_view, text_view
from views.runs import start

VIEWS = {"maze": maze_view.VIEW, "text": text_view.VIEW}

MAX_MAZE_GIF = 2_000_000


def _run(name: str, config: SigmaConfig, source, settings: Settings):
    torch.manual_seed(0)
    task = get(name)
    value, frames = start(task, SigmaGPT(config).eval(), source, settings)
    return task, value, list(frames)


@pytest.fixture(scope="module")
def maze_run():
    config = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    return _run("maze", config, mz.examples()[0], Settings(sampler="exact", temperature=1.0))


@pytest.fixture(scope="module")
def text_run():
    config = SigmaConfig(vocab_size=tx.VOCAB_SIZE, block_size=128, n_layer=1, n_head=2, n_embd=32)
    return _run("text", config, "To be, or [___] to be", Settings(sampler="burst", temperature=1.0))


@pytest.fixture(params=["maze", "text"])
def a_run(request, maze_run, text_run):
    return {"maze": maze_run, "text": text_run}[request.param]


def test_gif_has_one_image_per_frame_and_holds_the_run_at_rest(a_run):
    task, value, frames = a_run
    draw = VIEWS[task.name].gif_frame
    last, rest = draw(value, frames[-1]), draw(value, frames[-1].at_rest())
    shows_news = last.tobytes() != rest.tobytes()  # the text board strikes a rejected draft; the maze may not
    image = Image.open(io.BytesIO(gif.gif(draw, value, frames)))
    assert image.format == "GIF"
    assert image.n_frames == len(frames) + shows_news
    durations = [im.info["duration"] for im in ImageSequence.Iterator(image)]
    assert durations == [gif.STEP_MS] * (len(frames) - 1 + shows_news) + [gif.LAST_MS]
    at_rest = frames[-1].at_rest()
    assert not (at_rest.drafted or at_rest.accepted) and at_rest.rejected is None
    assert at_rest.tokens == frames[-1].tokens


def test_maze_gif_is_small(maze_run):
    task, value, frames = maze_run
    assert len(gif.gif(maze_view.gif_frame, value, frames)) < MAX_MAZE_GIF


def test_other_tasks_get_a_strip(maze_run):
    _, value, frames = maze_run
    image = Image.open(io.BytesIO(gif.gif(None, value, frames)))  # a task whose view draws no frame
    assert image.n_frames in (len(frames), len(frames) + 1)  # + the run at rest, if it looks different


def test_json_holds_the_streamed_events(a_run):
    task, value, frames = a_run
    data = json.loads(export.events_json(task, value, frames))
    assert data["task"] == task.name
    events = data["events"]
    assert len(events) == len(frames)
    assert [e["step"] for e in events] == [f.step for f in frames] == sorted(f.step for f in frames)
    assert events[-1]["finished"] is True and events[-1]["message"]
    assert set(events[-1]["figures"]) == {"accepted_per_step", "done_vs_calls"}
    assert all(not e["finished"] and "message" not in e for e in events[:-1])


def test_write_creates_both_files(maze_run, tmp_path):
    task, value, frames = maze_run
    paths = export.write(maze_view.VIEW, value, frames, tmp_path)
    assert [p.name for p in paths] == ["sigma-maze-run.gif", "sigma-maze-run.json"]
    assert all(p.parent == tmp_path and p.stat().st_size > 0 for p in paths)
    assert Image.open(paths[0]).n_frames in (len(frames), len(frames) + 1)
    assert len(json.loads(paths[1].read_text(encoding="utf-8"))["events"]) == len(frames)


def test_write_makes_its_own_folder(text_run):
    _, value, frames = text_run
    paths = export.write(text_view.VIEW, value, frames)
    assert [p.name for p in paths] == ["sigma-text-run.gif", "sigma-text-run.json"]
    assert all(p.is_file() for p in paths)
    shutil.rmtree(paths[0].parent)


def test_a_finished_run_ends_at_rest_after_its_last_step_s_flash():
    """The last step's rejected draft flashes for a beat like every step's, then the page shows the run without it."""
    from views.handlers import _show, play

    config = SigmaConfig(vocab_size=tx.VOCAB_SIZE, block_size=128, n_layer=1, n_head=2, n_embd=32)
    for seed in range(20):  # a run whose last step rejects a draft
        _, value, frames = _run("text", config, "To be, or [___] to be", Settings(sampler="exact", seed=seed))
        if frames[-1].rejected is not None:
            break
    last = frames[-1]
    assert last.rejected is not None, "some seed's last step rejects a draft"
    flash, rest = _show(text_view.VIEW, value, last)[0], _show(text_view.VIEW, value, last.at_rest())[0]
    assert flash != rest
    played = list(play(text_view.VIEW, value, frames, "fast"))
    assert played[-2].view == flash and played[-1].view == rest
    assert "Done" not in played[-2].line and "Done" in played[-1].line  # said once, when nothing changes after it
    assert list(play(text_view.VIEW, value, frames, "instant"))[-1].view == rest

"""The page's event handlers: they turn widget values into engine calls and engine results into views.

Bad input never reaches the page raw: `in_status` turns a ValueError into a red line in the tab's status box,
`api_guard` into a clean API error; anything unexpected is logged and reported in one short sentence.
"""

import functools
import inspect
import logging
import random
import time

import gradio as gr

from sigma import maze as mz
from views import api, charts, maze_view, status, text_view
from views.models import MAZE, TEXT
from views.runs import Settings

SPEEDS = {"instant": 0.0, "fast": 0.05, "normal": 0.2, "slow": 0.5}  # seconds between frames
MAX_ANIMATION_S = 15.0  # a slow animation of a long run is sped up to fit
RENDER = {"maze": maze_view.render, "text": text_view.render}
log = logging.getLogger("studio")


# ---------------------------------------------------------------- errors never reach the page raw


def _internal(err: Exception) -> gr.Error:
    if isinstance(err, gr.Error):
        return err
    log.exception("unexpected error")
    return gr.Error(f"Something went wrong on the server ({type(err).__name__}); it was logged. Try again.")


def guarded(on_error):
    """Bad input (ValueError, TimeoutError) becomes `on_error(message)`; anything else a short gr.Error."""

    def wrap(fn):
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args, **kwargs):
                try:
                    yield from fn(*args, **kwargs)
                except (ValueError, TimeoutError) as err:
                    yield on_error(str(err))
                except Exception as err:
                    raise _internal(err) from None

            return gen

        @functools.wraps(fn)
        def plain(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (ValueError, TimeoutError) as err:
                return on_error(str(err))
            except Exception as err:
                raise _internal(err) from None

        return plain

    return wrap


def _raise(message: str):
    raise gr.Error(message)


def in_status(n_outputs: int, at: int = 1):
    """The message goes to output `at` (the status box); every other output is left as it is."""
    return guarded(lambda m: tuple(status.message(m, "bad") if i == at else gr.skip() for i in range(n_outputs)))


api_guard = guarded(_raise)


# ---------------------------------------------------------------- runs: play, scrub, replay


def play(task: str, source, run_frames, speed: str):
    """Stream a run's frames at the chosen speed: (view, status, scrub, run, steps chart, calls chart, result).
    The first frame goes out before any model call; "instant" then jumps to the end."""
    delay = SPEEDS.get(speed, 0.0)
    run = []
    for frame in run_frames:
        run.append(frame)
        view, line, result = RENDER[task](source, frame)
        if frame.finished:
            state = {"task": task, "source": source, "frames": run}
            scrub = gr.update(maximum=len(run) - 1, value=len(run) - 1, interactive=True)
            yield view, line, scrub, state, charts.accepted_per_step(run), charts.done_vs_calls(run), result
        elif frame.step == 0 or delay:
            yield view, line, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            time.sleep(min(delay, MAX_ANIMATION_S / max(1, frame.to_fill)))


@in_status(3)
def scrub(run: dict | None, step: float):
    if not run:
        raise ValueError("No run yet: solve or fill first, then scrub through its steps.")
    frames = run["frames"]
    return RENDER[run["task"]](run["source"], frames[min(int(step), len(frames) - 1)])


@in_status(7)
def replay(run: dict | None, speed: str):
    if not run:
        raise ValueError("No run yet: solve or fill first, then replay it.")
    yield from play(run["task"], run["source"], iter(run["frames"]), speed if speed != "instant" else "normal")


def _frame_at(run: dict | None, task: str, source, step: float):
    """The scrubbed frame of the last run while it is still partial and of this input; None: use the input."""
    if run and run["task"] == task and run["source"] == source:
        frame = run["frames"][min(int(step), len(run["frames"]) - 1)]
        return None if frame.finished else frame
    return None


# ---------------------------------------------------------------- maze handlers


def maze_shape() -> tuple[int, int]:
    model = MAZE.get()
    return mz.grid_of(model) if model is not None else (9, 9)


@in_status(2, at=1)
def maze_click(ascii_maze: str, mode: str, evt: gr.EventData):
    new, note = maze_view.edit(ascii_maze, int(evt.index), mode)
    return (gr.skip(), status.message(note, "fair")) if note else (new, gr.skip())


@in_status(2)
def maze_show(ascii_maze: str):
    return maze_view.board_html(ascii_maze), maze_view.readiness(ascii_maze, maze_shape())


def maze_new(family: str) -> str:
    if family not in maze_view.FAMILY_CHOICES:
        family = "any"
    return maze_view.random_maze(random.randrange(10**6), maze_shape(), family)


@in_status(7)
def maze_solve(ascii_maze, sampler, order, num_orders, temperature, seed, speed):
    model = api.model_of(MAZE)
    _, run_frames = maze_view.run(model, ascii_maze, Settings(sampler, order, num_orders, temperature, seed))
    yield from play("maze", ascii_maze, run_frames, speed)


@in_status(2)
def maze_inspect(ascii_maze: str, run: dict | None, step: float):
    model = api.model_of(MAZE)
    maze = mz.parse(ascii_maze, mz.grid_of(model))
    grid = maze_view.density_grid(model, maze, _frame_at(run, "maze", ascii_maze, step))
    return charts.grid_heatmap(grid), gr.skip()


# ---------------------------------------------------------------- text handlers


def block_size() -> int:
    model = TEXT.get()
    return model.config.block_size if model is not None else 128


def _passage_outputs(passage: text_view.Passage):
    note = text_view.notes(passage)
    line = status.message(note, "fair") if note else status.message("Ready: press Fill.", "info")
    return passage.as_state(), text_view.tokens_html(passage), line


@in_status(3, at=2)
def text_parse(text: str):
    return _passage_outputs(text_view.parse(text, block_size()))


@in_status(3, at=2)
def text_canvas(n: float, pins: str):
    return _passage_outputs(text_view.canvas(int(n or 0), pins, block_size()))


@in_status(3, at=2)
def text_click(state: dict, evt: gr.EventData):
    return _passage_outputs(text_view.toggle(text_view.Passage.from_state(state), int(evt.index)))


@in_status(7)
def text_fill(state, sampler, order, num_orders, temperature, seed, speed):
    model = api.model_of(TEXT)
    passage = text_view.Passage.from_state(state)
    run_frames = text_view.run(model, passage, Settings(sampler, order, num_orders, temperature, seed))
    yield from play("text", passage.as_state(), run_frames, speed)


@in_status(2)
def text_inspect(state: dict, run: dict | None, step: float, k: float):
    model = api.model_of(TEXT)
    passage = text_view.Passage.from_state(state)
    labels, top = text_view.density(model, passage, _frame_at(run, "text", passage.as_state(), step), int(k))
    return charts.top_k_heatmap(labels, top), gr.skip()


def banners():
    """A red line on a tab whose checkpoint is missing, saying how to get one."""
    return tuple(status.message(slot.missing_message(), "bad") if slot.get() is None else "" for slot in (MAZE, TEXT))

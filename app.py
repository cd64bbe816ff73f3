"""σ-GPT studio: the web demo. This file is the page's table of contents: layout and event wiring.
Drawing lives in views/, the engine in sigma/, styles and the click script in assets/."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import functools  # noqa: E402
import inspect  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import gradio as gr  # noqa: E402

from sigma import maze as mz  # noqa: E402
from views import about, api, charts, maze_view, status, text_view  # noqa: E402
from views.models import MAZE, TEXT, load_all  # noqa: E402
from views.runs import Settings  # noqa: E402

ASSETS = Path(__file__).with_name("assets")
CLICK_JS = (ASSETS / "click.js").read_text()
SPEEDS = {"instant": 0.0, "fast": 0.05, "normal": 0.2, "slow": 0.5}  # seconds between frames
MAX_ANIMATION_S = 15.0  # a slow animation of a long run is sped up to fit
CONCURRENCY = 2  # model runs at once: a 2-vCPU Space
SAMPLERS = [("sequential", "sequential"), ("burst (paper)", "burst"), ("exact", "exact")]
SAMPLERS.append(("exact-confident", "exact-confident"))
ORDER_CHOICES = [("random", "random"), ("left-to-right", "l2r"), ("fractal", "fractal")]
RENDER = {"maze": maze_view.render, "text": text_view.render}
INTRO = "# σ-GPT studio\nFix any tokens and watch σ-GPT fill in the rest out of order, several per model call."
ASCII_HELP = "ASCII (# wall, S start, G goal, + pin on, x pin off)"
PASSAGE_HELP = "Passage: [___] = 3 blank tokens, {words} = blank these words; click a token to blank or keep it"
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


def maze_new() -> str:
    return maze_view.random_maze(random.randrange(10**6), maze_shape())


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


# ---------------------------------------------------------------- layout


def controls(temperature: float):
    """Sampler settings, shared in shape by both tabs."""
    with gr.Row():
        sampler = gr.Dropdown(SAMPLERS, value="exact-confident", label="Sampler")
        order = gr.Radio(ORDER_CHOICES, value="random", label="Order")
    with gr.Row():
        num_orders = gr.Slider(1, 16, value=5, step=1, label="Orders tried per step (burst)")
        temp = gr.Slider(0.0, 2.0, value=temperature, step=0.05, label="Temperature (0: greedy)")
    with gr.Row():
        seed = gr.Number(0, precision=0, minimum=0, label="Seed")
        speed = gr.Radio(list(SPEEDS), value="normal", label="Animation")
    return [sampler, order, num_orders, temp, seed], speed


class Panel(NamedTuple):
    line: gr.HTML
    step: gr.Slider
    again: gr.Button
    result: gr.Textbox
    look: gr.Button
    density: gr.Plot
    steps_plot: gr.Plot
    calls_plot: gr.Plot


def run_panel(prefix: str) -> Panel:
    """Status line, replay controls, per-run charts and the result box of one tab."""
    line = gr.HTML(elem_id=f"{prefix}-status")
    with gr.Row():
        step = gr.Slider(0, 1, value=0, step=1, label="Scrub through the last run (step)", interactive=False)
        again = gr.Button("Replay", size="sm", scale=0)
    result = gr.Textbox(label="Result", lines=3, interactive=False, elem_id=f"{prefix}-result")
    with gr.Accordion("Inspect", open=False, elem_id=f"{prefix}-inspect"):
        look = gr.Button("One model pass over the current partial sequence", size="sm", elem_id=f"{prefix}-look")
        density = gr.Plot(label="One-pass density")
        with gr.Row():
            steps_plot = gr.Plot(label="Tokens per step")
            calls_plot = gr.Plot(label="Tokens vs model calls")
    return Panel(line, step, again, result, look, density, steps_plot, calls_plot)


def wire_run(button, fn, inputs, view, panel: Panel, run_state, speed):
    """Start a run from `button` and hook up the replay controls; model work shares one concurrency group."""
    line, step, again = panel.line, panel.step, panel.again
    outputs = [view, line, step, run_state, panel.steps_plot, panel.calls_plot, panel.result]
    model_work = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "api_visibility": "undocumented"}
    button.click(fn, inputs, outputs, **model_work)
    step.release(scrub, [run_state, step], [view, line, panel.result], api_visibility="undocumented")
    again.click(replay, [run_state, speed], outputs, api_visibility="undocumented")


def build() -> gr.Blocks:
    load_all()
    with gr.Blocks(title="σ-GPT studio") as demo:
        gr.Markdown(INTRO)
        legend = status.legend()
        with gr.Tabs():
            with gr.Tab("Maze", id="maze"):
                maze_banner = gr.HTML()
                first = maze_view.examples(maze_shape())
                with gr.Row():
                    with gr.Column(scale=3):
                        board = gr.HTML(maze_view.board_html(first[0]), js_on_load=CLICK_JS, elem_id="maze-board")
                        maze_panel = run_panel("maze")
                    with gr.Column(scale=2):
                        mode = gr.Radio(list(maze_view.MODES), value="wall", label="A click places")
                        with gr.Row():
                            new = gr.Button("New random maze")
                            solve = gr.Button("Solve", variant="primary", elem_id="maze-solve")
                        maze_controls, maze_speed = controls(temperature=0.0)
                        ascii_box = gr.Textbox(first[0], lines=9, label=ASCII_HELP)
                        gr.Examples([[m] for m in first], [ascii_box], label="Examples")
                        gr.HTML(legend)
                maze_run = gr.State()

            with gr.Tab("Text", id="text"):
                text_banner = gr.HTML()
                with gr.Row():
                    with gr.Column(scale=3):
                        tokens = gr.HTML(js_on_load=CLICK_JS, elem_id="text-tokens")
                        text_panel = run_panel("text")
                    with gr.Column(scale=2):
                        passage = gr.Textbox(text_view.EXAMPLES[0], lines=4, label=PASSAGE_HELP)
                        gr.Examples([[t] for t in text_view.EXAMPLES], [passage], label="Examples")
                        with gr.Accordion("Or an empty canvas with pinned words", open=False):
                            canvas_n = gr.Number(48, precision=0, minimum=1, label="Tokens")
                            pins = gr.Textbox(
                                "0: KING:\n20: crown", lines=3, label="Pins: one 'position: words' a line"
                            )
                            make_canvas = gr.Button("Make canvas")
                        fill = gr.Button("Fill", variant="primary", elem_id="text-fill")
                        text_controls, text_speed = controls(temperature=0.8)
                        top_k = gr.Slider(1, 10, value=5, step=1, label="Inspect: top-k")
                        gr.HTML(legend)
                text_state, text_run = gr.State(), gr.State()

            with gr.Tab("About", id="about"):
                gr.Markdown(about.ABOUT)
                gr.HTML(f'<div class="figure">{(ASSETS / "sigma.svg").read_text()}</div>')

        # maze: edit, show, solve, inspect
        edits = {"concurrency_limit": None, "api_visibility": "undocumented"}
        board.click(maze_click, [ascii_box, mode], [ascii_box, maze_panel.line], **edits)
        ascii_box.change(maze_show, [ascii_box], [board, maze_panel.line], **edits)
        new.click(maze_new, None, [ascii_box], **edits)
        wire_run(solve, maze_solve, [ascii_box, *maze_controls, maze_speed], board, maze_panel, maze_run, maze_speed)
        inspect_maze = [ascii_box, maze_run, maze_panel.step]
        maze_panel.look.click(maze_inspect, inspect_maze, [maze_panel.density, maze_panel.line], **edits)

        # text: tokenize, click, canvas, fill, inspect
        passage.change(text_parse, [passage], [text_state, tokens, text_panel.line], **edits)
        tokens.click(text_click, [text_state], [text_state, tokens, text_panel.line], **edits)
        make_canvas.click(text_canvas, [canvas_n, pins], [text_state, tokens, text_panel.line], **edits)
        wire_run(fill, text_fill, [text_state, *text_controls, text_speed], tokens, text_panel, text_run, text_speed)
        inspect_text = [text_state, text_run, text_panel.step, top_k]
        text_panel.look.click(text_inspect, inspect_text, [text_panel.density, text_panel.line], **edits)

        # page load: tokenize the first passage, and say which checkpoints are missing
        demo.load(text_parse, [passage], [text_state, tokens, text_panel.line], api_visibility="undocumented")
        demo.load(banners, None, [maze_banner, text_banner], api_visibility="undocumented")

        # the named API
        model_api = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY}
        gr.api(api_guard(api.solve_maze), api_name="solve_maze", **model_api)
        gr.api(api_guard(api.fill_text), api_name="fill_text", **model_api)
        gr.api(api_guard(api.density), api_name="density", **model_api)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """Queue and serve: theme, CSS and head go to launch() in Gradio 6."""
    options = {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "theme": gr.themes.Soft(),
        "css_paths": [ASSETS / "studio.css"],
    }
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64).launch(**(options | kwargs))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(build())

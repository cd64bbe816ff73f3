"""σ-GPT studio: the web demo. This file is the page's table of contents: layout and event wiring.
Handlers and drawing live in views/, the engine in sigma/, styles and the click script in assets/."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import logging  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import gradio as gr  # noqa: E402

from views import about, api, maze_view, status, text_view  # noqa: E402
from views.handlers import (  # noqa: E402
    SPEEDS,
    api_guard,
    banners,
    maze_click,
    maze_inspect,
    maze_new,
    maze_shape,
    maze_show,
    maze_solve,
    replay,
    scrub,
    text_canvas,
    text_click,
    text_fill,
    text_inspect,
    text_parse,
)
from views.models import load_all  # noqa: E402

ASSETS = Path(__file__).with_name("assets")
CLICK_JS = (ASSETS / "click.js").read_text()
CONCURRENCY = 2  # model runs at once: a 2-vCPU Space
SAMPLERS = [
    ("sequential", "sequential"),
    ("burst (paper)", "burst"),
    ("exact", "exact"),
    ("exact-confident", "exact-confident"),
]
ORDER_CHOICES = [("random", "random"), ("left-to-right", "l2r"), ("fractal", "fractal")]
INTRO = "# σ-GPT studio\nFix any tokens and watch σ-GPT fill in the rest out of order, several per model call."
ASCII_HELP = "ASCII (# wall, S start, G goal, + pin on, x pin off)"
PASSAGE_HELP = "Passage: [___] = 3 blank tokens, {words} = blank these words; click a token to blank or keep it"


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
                            family = gr.Dropdown(maze_view.FAMILY_CHOICES, value="any", label="Maze family", scale=1)
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
        new.click(maze_new, [family], [ascii_box], **edits)
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

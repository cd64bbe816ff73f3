"""σ-GPT studio: the web demo. This file is the page's table of contents: layout and event wiring.
Handlers and drawing live in views/, the engine in sigma/, styles and the click script in assets/."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import logging
from pathlib import Path
from typing import NamedTuple

import gradio as gr
from starlette.middleware import Middleware

from sigma.settings import BOUNDS, ORDERS, SAMPLERS, Settings
from sigma.tasks import maze as mz
from sigma.tasks import signal as sg
from sigma.tasks import text as tx
from views import about, api, charts, limits, maze_view, signal_view, status, text_view
from views.handlers import SPEEDS, banners, clear_run, model_figure, run_handlers, typed
from views.models import MAZE, load_all
from views.outputs import Clicked, Edited, Raced, RunOutputs, Shown, api_guard

ASSETS = Path(__file__).with_name("assets")
CLICK_JS = (ASSETS / "click.js").read_text()
PIN_JS = (ASSETS / "pin.js").read_text()
CONCURRENCY = 2  # model runs at once: a 2-vCPU Space
SAMPLER_LABELS = {"burst": "burst (paper)"}
ORDER_LABELS = {"l2r": "left-to-right"}
INTRO = "# σ-GPT studio\nFix any tokens and watch σ-GPT fill in the rest out of order, several per model call."
ASCII_HELP = "ASCII, {h} rows of {w} (# wall, S start, G goal, + pin on, x pin off): the model's grid size"
PASSAGE_HELP = (
    "Passage: [___] = 3 blank tokens, [...] = a blank whose length the model chooses, {words} = blank these words; "
    "click a token to blank or keep it"
)
PINS_HELP = "Pins: one 'position: words' a line (positions count tokens from 0; see them over the tokens)"
PROFILE_HELP = (
    "Altitude at each of 128 steps, comma-separated: feet or FL350; ? to draw (?*40: forty), ... for all the rest, "
    "[35000] to draw but score against 35000. Or click the chart to pin a step (click it again to unpin), "
    "or drag to draw"
)
CANVAS_PINS = "0: KING:\n20: crown"
EXAMPLE_LABELS = ["random walls", "corridor maze", "rooms", "a pin on the path", "unsolvable (to see why)"]


# ---------------------------------------------------------------- layout


def controls(defaults: Settings, checks_answers: bool = False):
    """Sampler settings, shaped and bounded by `sigma.settings`; returns them in Settings' order, and the speed.
    The tries slider shows only on a tab whose task can check an answer."""
    with gr.Row():
        sampler = gr.Dropdown(
            [(SAMPLER_LABELS.get(s, s), s) for s in SAMPLERS], value=defaults.sampler, label="Sampler"
        )
        order = gr.Radio([(ORDER_LABELS.get(o, o), o) for o in ORDERS], value=defaults.order, label="Order")
    with gr.Row():
        num_orders = gr.Slider(
            *BOUNDS["num_orders"],
            value=defaults.num_orders,
            step=1,
            label="Orders tried per step (burst)",
            visible=defaults.sampler == "burst",
        )
        temp = gr.Slider(*BOUNDS["temperature"], value=defaults.temperature, step=0.05, label="Temperature (0: greedy)")
    tries = gr.Slider(
        *BOUNDS["tries"],
        value=defaults.tries,
        step=1,
        label="Tries in one batch (the model's likeliest valid one is kept)",
        visible=checks_answers,
        elem_id="tries",
    )
    with gr.Row():
        seed = gr.Number(defaults.seed, precision=0, label=f"Seed (0 to {BOUNDS['seed'][1]})")
        speed = gr.Radio(list(SPEEDS), value="normal", label="Animation")
    sampler.change(lambda s: gr.update(visible=s == "burst"), sampler, num_orders, api_visibility="undocumented")
    return [sampler, order, num_orders, temp, seed, tries], speed


class Panel(NamedTuple):
    drawing: gr.HTML
    line: gr.HTML
    step: gr.Slider
    again: gr.Button
    order_map: gr.Checkbox
    result: gr.Textbox
    export: gr.Button
    exported: gr.File
    look: gr.Button
    top_k: gr.Slider | None
    density: gr.Plot
    steps_plot: gr.Plot
    calls_plot: gr.Plot
    race_samplers: gr.CheckboxGroup
    race_button: gr.Button
    race_view: gr.HTML
    race_state: gr.State


def run_panel(prefix: str, drawing: gr.HTML, top_k: bool = False) -> Panel:
    """Status line, replay controls, per-run charts and the result box under a tab's drawing."""
    line = gr.HTML(elem_id=f"{prefix}-status")
    with gr.Row():
        step = gr.Slider(
            0,
            1,
            value=0,
            step=1,
            label="Scrub through the last run (step)",
            interactive=False,
            elem_id=f"{prefix}-step",
        )
        with gr.Column(scale=0, min_width=180):
            again = gr.Button("Replay", size="sm")
            order_map = gr.Checkbox(False, label="Order map: colour by step", elem_id=f"{prefix}-order-map")
    result = gr.Textbox(label="Result", lines=3, interactive=False, elem_id=f"{prefix}-result")
    with gr.Row():
        export = gr.Button("Export the last run (GIF + JSON)", size="sm", scale=0, elem_id=f"{prefix}-export")
        exported = gr.File(label="Exported run", file_count="multiple", visible=False, elem_id=f"{prefix}-exported")
    with gr.Accordion("Race the samplers", open=False, elem_id=f"{prefix}-race"):
        with gr.Row():
            race_samplers = gr.CheckboxGroup(
                [(SAMPLER_LABELS.get(s, s), s) for s in SAMPLERS], value=list(SAMPLERS), label="Samplers", scale=3
            )
            race_button = gr.Button("Race", variant="primary", scale=1, elem_id=f"{prefix}-race-go")
        race_view = gr.HTML(elem_id=f"{prefix}-race-view")
        race_state = gr.State()
    with gr.Accordion("Inspect", open=False, elem_id=f"{prefix}-inspect"):
        with gr.Row():
            look = gr.Button("One model pass over the current partial sequence", size="sm", elem_id=f"{prefix}-look")
            k = gr.Slider(1, 10, value=5, step=1, label="Top-k", scale=0, min_width=160) if top_k else None
        density = gr.Plot(label="One-pass density")
        with gr.Row():
            steps_plot = gr.Plot(charts.waiting(charts.STEPS_WAITING), label="Tokens per step")
            calls_plot = gr.Plot(charts.waiting(charts.CALLS_WAITING), label="Tokens vs model calls")
    return Panel(
        drawing,
        line,
        step,
        again,
        order_map,
        result,
        export,
        exported,
        look,
        k,
        density,
        steps_plot,
        calls_plot,
        race_samplers,
        race_button,
        race_view,
        race_state,
    )


def wire_run(view, button, source, panel: Panel, run_state, settings: list, speed) -> tuple[list, list]:
    """A tab's run: model work in the shared model group, then the animation outside it; replay, scrub
    and inspect on the kept run. Returns the run's outputs, in `RunOutputs` order, and the events that an
    edit of the input must cancel (a run or animation of the old input must not draw over the new one)."""
    on = run_handlers(view)
    outputs = list(
        RunOutputs(
            view=panel.drawing,
            line=panel.line,
            step=panel.step,
            run=run_state,
            steps_plot=panel.steps_plot,
            calls_plot=panel.calls_plot,
            result=panel.result,
            exported=panel.exported,
        )
    )
    quiet = {"api_visibility": "undocumented"}
    model_work = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, **quiet}
    started = button.click(on.start, [source, *settings], outputs, **model_work)
    animated = started.then(on.animate, [run_state, speed], outputs, concurrency_limit=None, **quiet)
    scrubbed = [run_state, panel.step, panel.order_map]
    # a drag, a click on the track or a number typed in the box; while dragging only the latest step is drawn
    panel.step.input(on.scrub, scrubbed, outputs, concurrency_limit=None, trigger_mode="always_last", **quiet)
    panel.order_map.change(on.scrub, scrubbed, outputs, concurrency_limit=None, **quiet)
    panel.export.click(on.export, [run_state], [panel.exported, panel.line], concurrency_limit=None, **quiet)
    raced = list(Raced(panel.race_view, panel.line, panel.race_state))
    panel.race_button.click(on.race, [source, panel.race_samplers, *settings[1:5]], raced, **model_work).then(
        on.race_animate, [panel.race_state, speed], raced, concurrency_limit=None, **quiet
    )
    replayed = panel.again.click(on.replay, [run_state, speed], outputs, concurrency_limit=None, **quiet)
    inspect_inputs = [source, run_state, panel.step] + ([panel.top_k] if panel.top_k else [])
    panel.look.click(on.inspect, inspect_inputs, list(Shown(panel.density, panel.line)), **model_work)
    return outputs, [started, animated, replayed]


def build() -> gr.Blocks:
    load_all()
    with gr.Blocks(title="σ-GPT studio") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Maze", id="maze"):
                maze_banner = gr.HTML()
                first = mz.TASK.examples(MAZE.get())
                h, w = maze_view.grid_shape()
                with gr.Row():
                    with gr.Column(scale=3):
                        board = gr.HTML(maze_view.board_html(first[0]), js_on_load=CLICK_JS, elem_id="maze-board")
                        maze_panel = run_panel("maze", board)
                    with gr.Column(scale=2):
                        mode = gr.Radio(list(maze_view.MODES), value="wall", label="A click places")
                        with gr.Row():
                            family = gr.Dropdown(maze_view.FAMILY_CHOICES, value="any", label="Maze family", scale=1)
                            new = gr.Button("New random maze")
                            solve = gr.Button(maze_view.VIEW.run_label, variant="primary", elem_id="maze-solve")
                        maze_settings, maze_speed = controls(mz.TASK.defaults, checks_answers=True)
                        ascii_box = gr.Textbox(
                            first[0], lines=h, label=ASCII_HELP.format(h=h, w=w), elem_id="maze-ascii"
                        )
                        gr.Examples([[m] for m in first], [ascii_box], label="Examples", example_labels=EXAMPLE_LABELS)
                        gr.HTML(status.legend("maze"))
                maze_state, maze_run = gr.State(), gr.State()

            with gr.Tab("Text", id="text"):
                text_banner = gr.HTML()
                with gr.Row():
                    with gr.Column(scale=3):
                        tokens = gr.HTML(js_on_load=CLICK_JS, elem_id="text-tokens")
                        text_panel = run_panel("text", tokens, top_k=True)
                    with gr.Column(scale=2):
                        passage = gr.Textbox(tx.EXAMPLES[0], lines=4, label=PASSAGE_HELP)
                        gr.Examples([[t] for t in tx.EXAMPLES], [passage], label="Examples")
                        max_length = gr.Slider(
                            1,
                            16,
                            value=tx.MAX_LENGTH,
                            step=1,
                            label="Longest [...] blank (tokens)",
                            elem_id="max-length",
                        )
                        with gr.Accordion("Or an empty canvas with pinned words", open=False):
                            canvas_n = gr.Number(48, precision=0, label="Tokens")
                            pins = gr.Textbox(CANVAS_PINS, lines=3, label=PINS_HELP)
                            make_canvas = gr.Button("Make canvas")
                        fill = gr.Button(text_view.VIEW.run_label, variant="primary", elem_id="text-fill")
                        text_settings, text_speed = controls(tx.TASK.defaults)
                        gr.HTML(status.legend("text"))
                text_state, text_run = gr.State(), gr.State()

            with gr.Tab("Signal", id="signal"):
                signal_banner = gr.HTML()
                flights = sg.examples()
                with gr.Row():
                    with gr.Column(scale=3):
                        chart = gr.HTML(signal_view.draw(flights[0]), js_on_load=PIN_JS, elem_id="signal-chart")
                        signal_panel = run_panel("signal", chart)
                        spread_plot = gr.Plot(label="Spread: many draws with the same pins", elem_id="signal-spread")
                    with gr.Column(scale=2):
                        with gr.Row():
                            forecast = gr.Button(signal_view.VIEW.run_label, variant="primary", elem_id="signal-run")
                            spread = gr.Button(f"Spread ({signal_view.SPREAD_N} draws)", elem_id="signal-spread-go")
                        signal_settings, signal_speed = controls(sg.TASK.defaults)
                        profile_box = gr.Textbox(flights[0], lines=8, label=PROFILE_HELP, elem_id="signal-text")
                        gr.Examples([[f] for f in flights], [profile_box], example_labels=list(sg.EXAMPLE_LABELS))
                        gr.HTML(signal_view.legend_html())
                signal_state, signal_run = gr.State(), gr.State()

            with gr.Tab("About", id="about"):
                gr.Markdown(about.ABOUT)
                gr.HTML(f'<div class="figure">{(ASSETS / "sigma.svg").read_text()}</div>')

        edits = {"concurrency_limit": None, "api_visibility": "undocumented"}
        model = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "api_visibility": "undocumented"}

        # maze: edit, show, solve (and scrub, replay, inspect); an edit forgets the last run
        maze_edit = list(Edited(maze_state, board, maze_panel.line, solve, ascii_box))
        maze_outputs, maze_runs = wire_run(
            maze_view.VIEW, solve, maze_state, maze_panel, maze_run, maze_settings, maze_speed
        )
        board.click(
            maze_view.on_click,
            [ascii_box, mode],
            list(Clicked(ascii_box, maze_panel.line)),
            api_name="maze_click",
            **edits,
        )
        ascii_box.change(
            maze_view.on_edit, [ascii_box], maze_edit, cancels=maze_runs, api_name="maze_show", **edits
        ).then(clear_run, None, maze_outputs, **edits)
        new.click(maze_view.on_new, [family], [ascii_box], api_name="maze_new", **edits)

        # text: tokenize, click, canvas, fill (and scrub, replay, inspect); an edit forgets the last run
        text_edit = list(Edited(text_state, tokens, text_panel.line, fill, passage))
        text_outputs, text_runs = wire_run(
            text_view.VIEW, fill, text_state, text_panel, text_run, text_settings, text_speed
        )
        text_edits = {**edits, "cancels": text_runs}
        for edited in (passage.change, max_length.release):
            edited(text_view.on_edit, [passage, max_length], text_edit, api_name="text_parse", **text_edits).then(
                clear_run, None, text_outputs, **edits
            )
        tokens.click(text_view.on_click, [text_state], text_edit, api_name="text_click", **text_edits).then(
            clear_run, None, text_outputs, **edits
        )
        make_canvas.click(text_view.on_canvas, [canvas_n, pins], text_edit, api_name="text_canvas", **text_edits).then(
            clear_run, None, text_outputs, **edits
        )

        # signal: type or pick a profile, forecast (and scrub, replay, inspect), spread
        signal_edit = list(Edited(signal_state, chart, signal_panel.line, forecast, profile_box))
        signal_outputs, signal_runs = wire_run(
            signal_view.VIEW, forecast, signal_state, signal_panel, signal_run, signal_settings, signal_speed
        )
        signal_show = typed(signal_view.edited, "signal_show")
        profile_box.change(signal_show, [profile_box], signal_edit, cancels=signal_runs, **edits).then(
            clear_run, None, signal_outputs, **edits
        )
        chart.click(signal_view.on_pin, [profile_box], [profile_box], api_name="signal_pin", **edits)
        spread_of = model_figure(signal_view.spread, "signal", "signal_spread")
        spread.click(spread_of, [signal_state, *signal_settings], list(Shown(spread_plot, signal_panel.line)), **model)

        # page load: parse the first inputs, and say which checkpoints are missing
        demo.load(maze_view.on_edit, [ascii_box], maze_edit, api_name="maze_load", api_visibility="undocumented")
        demo.load(
            text_view.on_edit, [passage, max_length], text_edit, api_name="text_load", api_visibility="undocumented"
        )
        demo.load(signal_show, [profile_box], signal_edit, api_visibility="undocumented")
        tabs = ("maze", "text", "signal")
        demo.load(banners(*tabs), None, [maze_banner, text_banner, signal_banner], api_visibility="undocumented")

        # the named API: /solve_maze, /fill_text, /fill_signal, /spread_signal, /compare, /density
        model_api = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY}
        for task in (mz.TASK, tx.TASK, sg.TASK):
            gr.api(api_guard(api.endpoint(task)), api_name=f"{task.verb}_{task.name}", **model_api)
        gr.api(api_guard(api.endpoint(sg.TASK)), api_name="forecast_signal", **model_api)  # its first name
        gr.api(api_guard(api.spread_signal), api_name="spread_signal", **model_api)
        gr.api(api_guard(api.compare), api_name="compare", **model_api)
        gr.api(api_guard(api.density), api_name="density", **model_api)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """Queue and serve with the limits a shared Space needs: the door (views/limits.py: who the client is,
    bodies over 64 KB, deep JSON and uploads refused) and the gate on the queue (views/gate.py: every queued
    event priced and paid from its client's budget, at most two runs waiting per client, the model slots
    served round-robin, unread runs dropped). `/run/` is closed: every call goes through the queue.
    Theme, CSS and head go to launch() in Gradio 6."""
    from views import gate  # (imported here: the rest of this file is the page's layout)

    os.environ["FORWARDED_ALLOW_IPS"] = ""  # the server must not rewrite the peer: limits.client_of decides
    trusted, streams = limits.trusted_proxies(), limits.Streams()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=None, api_open=False)  # the gate bounds it
    gate.from_environ(os.environ, streams, trusted).install(demo)
    options = {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "theme": gr.themes.Soft(),
        "css_paths": [ASSETS / "studio.css"],
        "app_kwargs": {"middleware": [Middleware(limits.Limits, trusted=trusted, streams=streams)]},
        "state_session_capacity": 200,  # sessions whose inputs Gradio keeps (every API call is a session)
        "max_file_size": "64kb",  # the app takes no files (uploads are refused at the door)
    }
    return demo.launch(**(options | kwargs))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(build())

"""The pieces every tab is built from: the sampler controls, the run panel under a drawing, and the wiring of
a run (model work in the shared slots, then its animation outside them; scrub, replay, race, inspect, export).
A tab module (maze_tab, text_tab, signal_tab) lays out its own inputs and calls these."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import gradio as gr

from sigma.settings import BOUNDS, ORDERS, SAMPLERS, Settings
from views import charts
from views.handlers import SPEEDS, TOP_K, ending, run_handlers
from views.outputs import Charted, Forgotten, Raced, RunOutputs
from views.view import TaskView

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CONCURRENCY = 3  # model runs at once: two of any size and one small (views/gate.py LARGE_SLOTS)
SAMPLER_LABELS = {"burst": "burst (paper)"}
ORDER_LABELS = {"l2r": "left-to-right"}
EDITS = {"concurrency_limit": None, "api_visibility": "undocumented"}  # page edits: no model work
MODEL_WORK = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY, "api_visibility": "undocumented"}


def script(name: str) -> str:
    """A click script from assets/, run when its component loads."""
    return (ASSETS / name).read_text()


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
            k = gr.Slider(1, TOP_K, value=5, step=1, label="Top-k", scale=0, min_width=160) if top_k else None
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


def wire_run(view: TaskView, button, source, panel: Panel, run_state, settings: list, speed) -> tuple[list, list]:
    """A tab's run: model work in the shared model group, then the animation outside it; replay, scrub
    and inspect on the kept run. Returns what an edit of the input forgets (`Forgotten` order) and the race it
    cancels (a run and every animation stop through `wire_edit`)."""
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
    model_work = MODEL_WORK
    started = button.click(on.start, [source, *settings], outputs, **model_work)
    started.then(on.animate, [run_state, speed, source], outputs, concurrency_limit=None, **quiet)
    scrubbed = [run_state, panel.step, panel.order_map]
    # a drag, a click on the track or a number typed in the box; while dragging only the latest step is drawn.
    # Raw values (preprocess=False): Gradio's slider answers a number typed outside its range with a bare
    # "Error"; the handlers take the nearest step instead
    raw = {"preprocess": False, "concurrency_limit": None, **quiet}
    panel.step.input(on.scrub, scrubbed, outputs, trigger_mode="always_last", **raw)
    panel.order_map.change(on.scrub, scrubbed, outputs, **raw)
    panel.export.click(on.export, [run_state], [panel.exported, panel.line], concurrency_limit=None, **quiet)
    raced = list(Raced(panel.race_view, panel.line, panel.race_state))
    raced_start = panel.race_button.click(on.race, [source, panel.race_samplers, *settings[1:5]], raced, **model_work)
    raced_start.then(on.race_animate, [panel.race_state, speed], raced, concurrency_limit=None, **quiet)
    panel.again.click(on.replay, [run_state, speed], outputs, concurrency_limit=None, **quiet)
    inspect_inputs = [source, run_state, panel.step] + ([panel.top_k] if panel.top_k else [])
    looked = list(Charted(panel.density, panel.line))
    panel.look.click(on.inspect, inspect_inputs, looked, preprocess=False, **model_work)
    forgotten = Forgotten(*outputs[2:], panel.race_view, panel.race_state, panel.density)
    return list(forgotten), [raced_start]


def wire_edit(
    trigger, tab: str, edit, inputs: list, edited: list, forgotten: list, cancels: list, also: tuple = (), **named
):
    """An edit of a tab's input, in one event: a race under way is cancelled; when the value changed, the run
    computing or playing is stopped and waited for (nothing of it can land after the new input), what was made
    from the old input is cleared (`forgotten`, and the tab's own outputs in `also`, such as the signal's spread
    chart), and `edit` draws the new input (views.handlers.ending)."""
    outputs = edited + forgotten + list(also)
    trigger(ending(tab, edit, len(also)), inputs, outputs, cancels=cancels, **{**EDITS, **named})

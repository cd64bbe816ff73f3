"""The signal tab: the altitude chart, the profile box, the fan chart of many draws and the sampler controls,
and their wiring."""

from __future__ import annotations

import gradio as gr

from sigma.tasks import signal as sg
from views import layout, signal_view, status
from views.handlers import model_figure, typed
from views.outputs import Charted, Edited

VIEW = signal_view.VIEW
PROFILE_HELP = (
    "Altitude at each of 128 steps, comma-separated: feet or FL350; ? to draw (?*40: forty), ... for all the rest, "
    "[35000] to draw but score against 35000. Or click the chart to pin a step (click it again to unpin), "
    "or drag to draw"
)


def build(demo: gr.Blocks) -> gr.HTML:
    """Lay out and wire the tab inside `demo`; returns its banner (a missing checkpoint's line)."""
    banner = gr.HTML()
    flights = VIEW.task.examples(None)
    with gr.Row():
        with gr.Column(scale=3):
            chart = gr.HTML(signal_view.draw(flights[0]), js_on_load=layout.script("pin.js"), elem_id="signal-chart")
            panel = layout.run_panel("signal", chart)
            spread_plot = gr.Plot(label="Spread: many draws with the same pins", elem_id="signal-spread")
        with gr.Column(scale=2, elem_classes="studio-inputs"):  # first on a phone (studio.css)
            with gr.Row():
                forecast = gr.Button(VIEW.run_label, variant="primary", elem_id="signal-run")
                spread = gr.Button(f"Spread ({sg.SPREAD_N} draws)", elem_id="signal-spread-go")
            settings, speed = layout.controls(VIEW.task.defaults)
            profile_box = gr.Textbox(flights[0], lines=8, label=PROFILE_HELP, elem_id="signal-text")
            gr.Examples([[f] for f in flights], [profile_box], example_labels=list(VIEW.example_labels))
            gr.HTML(status.legend(list(VIEW.legend)))
    profile, run = gr.State(), gr.State()

    # type, pick or pin a profile, forecast (and scrub, replay, inspect), spread; an edit ends the old run
    edited = list(Edited(profile, chart, panel.line, forecast, profile_box))
    forgotten, runs = layout.wire_run(VIEW, forecast, profile, panel, run, settings, speed)
    show = typed(signal_view.edited, "signal_show")
    layout.wire_edit(profile_box.change, VIEW.task.name, show, [profile_box], edited, forgotten, runs, (spread_plot,))
    chart.click(signal_view.on_pin, [profile_box], [profile_box], api_name="signal_pin", **layout.EDITS)
    spread_of = model_figure(signal_view.spread, "signal", "signal_spread")
    spread.click(spread_of, [profile, *settings], list(Charted(spread_plot, panel.line)), **layout.MODEL_WORK)
    profile.change(signal_view.can_spread, [profile], [spread], **layout.EDITS)
    demo.load(show, [profile_box], edited, api_visibility="undocumented")
    return banner

"""The text tab: the token view, the passage box, the [...] length, the canvas maker and the sampler
controls, and their wiring."""

from __future__ import annotations

import gradio as gr

from sigma.tasks import text as tx
from views import layout, status, text_view
from views.outputs import Edited

VIEW = text_view.VIEW
PASSAGE_HELP = (
    "Passage: [___] = 3 blank tokens, [...] = a blank whose length the model chooses, {words} = blank these words; "
    "click a token to blank or keep it"
)
PINS_HELP = "Pins: one 'position: words' a line (positions count tokens from 0; see them over the tokens)"
CANVAS_PINS = "0: KING:\n20: crown"


def build(demo: gr.Blocks) -> gr.HTML:
    """Lay out and wire the tab inside `demo`; returns its banner (a missing checkpoint's line)."""
    banner = gr.HTML()
    examples = VIEW.task.examples(None)
    with gr.Row():
        with gr.Column(scale=3):
            tokens = gr.HTML(js_on_load=layout.script("click.js"), elem_id="text-tokens")
            panel = layout.run_panel("text", tokens, top_k=True)
        with gr.Column(scale=2, elem_classes="studio-inputs"):  # first on a phone (studio.css)
            passage = gr.Textbox(examples[0], lines=4, label=PASSAGE_HELP)
            gr.Examples([[t] for t in examples], [passage], label="Examples")
            max_length = gr.Slider(
                1, 16, value=tx.MAX_LENGTH, step=1, label="Longest [...] blank (tokens)", elem_id="max-length"
            )
            with gr.Accordion("Or an empty canvas with pinned words", open=False):
                canvas_n = gr.Number(48, precision=0, label="Tokens")
                pins = gr.Textbox(CANVAS_PINS, lines=3, label=PINS_HELP)
                make_canvas = gr.Button("Make canvas")
            fill = gr.Button(VIEW.run_label, variant="primary", elem_id="text-fill")
            settings, speed = layout.controls(VIEW.task.defaults, checks_answers=True)
            gr.HTML(status.legend(list(VIEW.legend)))
    value, run = gr.State(), gr.State()

    # tokenize, click, canvas, fill (and scrub, replay, inspect); an edit ends the old run and forgets it
    edited = list(Edited(value, tokens, panel.line, fill, passage))
    forgotten, runs = layout.wire_run(VIEW, fill, value, panel, run, settings, speed)
    parsed = [passage, max_length]
    for trigger, edit, inputs, name in (
        (passage.change, text_view.on_edit, parsed, "text_parse"),
        (max_length.change, text_view.on_edit, parsed, "text_parse"),  # a drag, the keys, the box
        (make_canvas.click, text_view.on_canvas, [canvas_n, pins], "text_canvas"),
    ):
        layout.wire_edit(trigger, VIEW.task.name, edit, inputs, edited, forgotten, runs, api_name=name)
    # a click changes the passage (and writes it into the box, whose change is then an echo)
    layout.wire_edit(
        tokens.click, VIEW.task.name, text_view.on_click, [value], edited, forgotten, runs, api_name="text_click"
    )
    demo.load(text_view.on_edit, [passage, max_length], edited, api_name="text_load", api_visibility="undocumented")
    return banner

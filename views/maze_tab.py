"""The maze tab: the board, the ASCII box, the family picker and the sampler controls, and their wiring."""

from __future__ import annotations

import gradio as gr

from views import layout, maze_view, status
from views.models import MAZE
from views.outputs import Clicked, Edited

VIEW = maze_view.VIEW
ASCII_HELP = (
    "ASCII, {h} rows of {w}, the model's grid size (# wall, . or space free, S start, G or E goal, + pin on, "
    "x pin off; a ring of walls around it is dropped)"
)


def build(demo: gr.Blocks) -> gr.HTML:
    """Lay out and wire the tab inside `demo`; returns its banner (a missing checkpoint's line)."""
    banner = gr.HTML()
    first = VIEW.task.examples(MAZE.get())
    h, w = maze_view.grid_shape()
    with gr.Row():
        with gr.Column(scale=3):
            board = gr.HTML(maze_view.board_html(first[0]), js_on_load=layout.script("click.js"), elem_id="maze-board")
            panel = layout.run_panel("maze", board)
        with gr.Column(scale=2, elem_classes="studio-inputs"):  # first on a phone (studio.css)
            mode = gr.Radio(list(maze_view.MODES), value="wall", label="A click places")
            with gr.Row():
                family = gr.Dropdown(maze_view.FAMILY_CHOICES, value="any", label="Maze family", scale=1)
                new = gr.Button("New random maze")
                solve = gr.Button(VIEW.run_label, variant="primary", elem_id="maze-solve")
            settings, speed = layout.controls(VIEW.task.defaults, checks_answers=True)
            ascii_box = gr.Textbox(first[0], lines=h, label=ASCII_HELP.format(h=h, w=w), elem_id="maze-ascii")
            gr.Examples([[m] for m in first], [ascii_box], label="Examples", example_labels=list(VIEW.example_labels))
            gr.HTML(status.legend(list(VIEW.legend)))
    maze, run = gr.State(), gr.State()

    # edit, show, solve (and scrub, replay, inspect); an edit ends the old run and forgets it
    edited = list(Edited(maze, board, panel.line, solve, ascii_box))
    forgotten, runs = layout.wire_run(VIEW, solve, maze, panel, run, settings, speed)
    clicked = list(Clicked(ascii_box, panel.line))
    board.click(maze_view.on_click, [ascii_box, mode], clicked, api_name="maze_click", **layout.EDITS)
    layout.wire_edit(
        ascii_box.change, VIEW.task.name, maze_view.on_edit, [ascii_box], edited, forgotten, runs, api_name="maze_show"
    )
    new.click(maze_view.on_new, [family], [ascii_box], api_name="maze_new", **layout.EDITS)
    demo.load(maze_view.on_edit, [ascii_box], edited, api_name="maze_load", api_visibility="undocumented")
    return banner

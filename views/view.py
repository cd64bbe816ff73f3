"""What the page needs of a task beyond the engine's `sigma.task.Task`: how to draw it, what its run button says,
its colour key, its GIF frame. A view module (maze_view, text_view, ...) defines `VIEW`, and keeps the tab's own
editing handlers beside it; a tab module lays the block out. The run handlers, export and the API work with any
view (tests/test_plugin.py adds a fourth task this way)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from torch import Tensor

from sigma.task import Task


@dataclass(frozen=True)
class TaskView:
    task: Task
    # the input (frame None) or one frame of a run, as HTML; order_map colours settled positions by their step
    draw: Callable[..., str]
    density_figure: Callable[[Any, Tensor, list[bool], int], go.Figure]  # one pass: value, probs [T, V], known, k
    run_label: str  # the run button's text, as messages name it ("Solve")
    gif_frame: Callable[[Any, Any], Any] | None = None  # one frame as a PIL image (views.gif); None: a strip
    legend: tuple[tuple[str, str], ...] = ()  # the colour key under the tab: (swatch class, words)
    example_labels: tuple[str, ...] | None = None  # the names of the task's examples on the page
    endpoints: tuple[Callable, ...] = ()  # the task's own named API endpoints, each by its function's name

"""Take a run away: its events as JSON and its frames as an animated GIF (`views.gif`), to keep, share or
replay offline. The JSON holds exactly the dicts the API streams (`views.api`), so a saved run and a live client
read the same. `write` puts both in a folder for a download button.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from sigma.task import Task
from views import gif
from views.api import finish_json, step_json
from views.runs import Frame
from views.view import TaskView


def events(task: Task, value: Any, frames: list[Frame]) -> list[dict]:
    """The dicts the API streams for this run, the verdict and the figures on the last."""
    out = [step_json(task, value, frame) for frame in frames]
    out[-1] |= finish_json(task, value, frames)
    return out


def events_json(task: Task, value: Any, frames: list[Frame]) -> str:
    """`{"task": ..., "events": [...]}` with one event per line: easy to read, diff and grep, yet small."""
    lines = ",\n".join(json.dumps(event, ensure_ascii=False) for event in events(task, value, frames))
    return f'{{"task": {json.dumps(task.name)}, "events": [\n{lines}\n]}}\n'


def write(view: TaskView, value: Any, frames: list[Frame], folder: str | Path | None = None) -> list[Path]:
    """`sigma-<task>-run.gif` and `sigma-<task>-run.json` in `folder` (a fresh temporary one by default, which
    Gradio serves), for a `gr.File` or `gr.DownloadButton`."""
    task = view.task
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="sigma-run-"))
    folder.mkdir(parents=True, exist_ok=True)
    gif_path, json_path = folder / f"sigma-{task.name}-run.gif", folder / f"sigma-{task.name}-run.json"
    gif_path.write_bytes(gif.gif(view.gif_frame, value, frames))
    json_path.write_text(events_json(task, value, frames), encoding="utf-8")
    return [gif_path, json_path]

"""The tasks: one module each, defining `TASK` (see `sigma.task.Task`). Helpers such as the maze families
live here too; a module without `TASK` is not a task."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sigma.task import Task


@cache
def all_tasks() -> dict[str, Task]:
    """Every task module's `TASK`, by name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        task = getattr(importlib.import_module(f"{__name__}.{info.name}"), "TASK", None)
        if task is not None:
            found[task.name] = task
    return found


def get(name: str) -> Task:
    """A task by name; ValueError names the ones there are."""
    tasks = all_tasks()
    if name not in tasks:
        raise ValueError(f"unknown task {str(name)[:40]!r}: use one of {', '.join(sorted(tasks))}")
    return tasks[name]

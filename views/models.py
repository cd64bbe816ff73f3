"""Checkpoints for the app: each task's model is loaded once, at startup, and a failure is kept as a
plain message for the page instead of an exception, so one missing model never breaks the other tab."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import torch

from sigma import SigmaGPT
from sigma.tasks import all_tasks, get

RETRY_SECONDS = 30.0  # a checkpoint that appears later is picked up without a restart


@dataclass
class ModelSlot:
    """One task's checkpoint: where it comes from, the model once loaded, or why it is not there."""

    task: str
    env_var: str
    default: str
    model: SigmaGPT | None = None
    error: str | None = None
    _tried: float = field(default=-1e9, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def source(self) -> str:
        return os.environ.get(self.env_var) or self.default

    def get(self) -> SigmaGPT | None:
        """The model, loading it on first use (or again after RETRY_SECONDS if it failed)."""
        with self._lock:
            if self.model is None and time.monotonic() - self._tried > RETRY_SECONDS:
                self._tried = time.monotonic()
                self.model, self.error = _load(self.task, self.source)
        return self.model

    def reload(self) -> SigmaGPT | None:
        """Forget the loaded model (or the failure) and load from the current source now."""
        with self._lock:
            self.model, self.error, self._tried = None, None, -1e9
        return self.get()

    def missing_message(self) -> str:
        return (
            f"No {self.task} model: {self.error} Train one with `python -m train {self.task}` "
            f"(it writes checkpoints/{self.task}), or set {self.env_var} to a checkpoint folder or a Hub id."
        )


def _load(task: str, source: str) -> tuple[SigmaGPT | None, str | None]:
    if not source.strip():
        return None, "no checkpoint given."
    if _looks_local(source) and not os.path.isdir(source):
        return None, f"the folder {source} does not exist."
    try:
        model = SigmaGPT.from_pretrained(source).float().eval()  # shipped weights may be float16
    except Exception as err:  # a corrupt or unreachable checkpoint must not take the app down
        return None, f"could not load {source} ({type(err).__name__}: {str(err)[:200]})."
    problem = get(task).check_model(model)
    if problem:
        return None, f"{source} {problem}."
    return model, None


def _looks_local(source: str) -> bool:
    """A Hub id is "owner/name" whose owner is not a local folder (such as checkpoints/); the rest are paths."""
    parts = source.split("/")
    return len(parts) != 2 or source.startswith((".", "~")) or os.path.isdir(parts[0])


SLOTS = {name: ModelSlot(name, f"SIGMA_{name.upper()}_MODEL", f"checkpoints/{name}") for name in all_tasks()}
MAZE, TEXT = SLOTS["maze"], SLOTS["text"]


def model_of(slot: ModelSlot) -> SigmaGPT:
    """The slot's model, or a ValueError saying why there is none and how to get one."""
    model = slot.get()
    if model is None:
        raise ValueError(slot.missing_message())
    return model


def load_all() -> None:
    """Load every checkpoint now (at startup). One CPU thread per run: the app runs up to two at once on a
    2-vCPU Space, and these small passes gain nothing from a second thread (measured: 0.17 s either way
    for a 128-token fill)."""
    torch.set_num_threads(1)
    for slot in SLOTS.values():
        slot.get()

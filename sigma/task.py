"""What a task is to the rest of the code: a plug-in that turns what a person types into tokens, and the
model's tokens back into something a person reads and judges.

The app, the API, the load tool and the benchmarks hold a `Task` and never ask which one. A task is one
module under `sigma/tasks/` that defines `TASK`, an object with the attributes and methods below;
`sigma.tasks.all_tasks()` finds it. Its value type (a `Maze`, a `Passage`, ...) is whatever `parse`
returns: it travels with a run, so nothing is parsed twice.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from torch import Tensor

from sigma.model import SigmaGPT
from sigma.settings import Settings

Value = TypeVar("Value")


class Verdict(Protocol):
    """How a finished run did, as a person reads it and as a client gets it."""

    @property
    def sentence(self) -> str:
        """One plain sentence, the same on the page and in the API."""

    @property
    def tone(self) -> str:
        """good, fair or bad: the colour of the sentence."""

    def as_json(self) -> dict[str, Any]:
        """The fields a finished API run adds, `message` (the sentence) included."""


class Task(Protocol[Value]):
    name: str  # the tab, the checkpoint folder, the API's noun ("maze": /solve_maze takes `maze`)
    verb: str  # the API's verb ("solve": /solve_maze)
    shown_as: str  # the API's key for `show` of every step ("ascii", "marked")
    defaults: Settings  # the sampler settings a person starts from
    choices: tuple[int, ...] | None  # tokens an unknown position can take (None: the whole vocabulary)
    valid_means: str  # what `accept` checks, in words, for the page's tries verdict ("" if it cannot tell)

    def check_model(self, model: SigmaGPT) -> str | None:
        """Why this checkpoint cannot serve the task (wrong vocabulary, no grid, ...), or None."""

    def parse(self, source: Any, model: SigmaGPT) -> Value:
        """What a person or a client gave (text, or a value already parsed) as a value; ValueError says
        what is wrong in a sentence a person can act on."""

    def problem(self, value: Value) -> str | None:
        """Why sampling cannot start on this value (nothing to fill, no valid answer exists), or None."""

    def resolve(self, value: Value, model: SigmaGPT, settings: Settings) -> Value:
        """The value with whatever the model must decide before sampling decided (the length of a text's
        "[...]" blank), or the value itself."""

    def encode(self, value: Value) -> tuple[Tensor, Tensor]:
        """Tokens [T] and known [T] (bool) of the value: the sampler fills the unknown positions."""

    def forbid(self, value: Value) -> Tensor | None:
        """Tokens each position may not take (bool [T, V]), or None; the samplers then draw from the model's
        distribution renormalised over the rest (a line break in the middle of a verse line, say)."""

    def show(self, value: Value, tokens: list[int], done: list[bool]) -> str:
        """A (partial) run as plain text: the maze's ASCII with its path, the passage with its fills."""

    def verdict(self, value: Value, tokens: list[int]) -> Verdict:
        """The judgement of a finished run."""

    def accept(self, value: Value, tokens: list[int]) -> bool | None:
        """Whether a finished run is a right answer (a maze path is valid), or None for a task that cannot
        tell (any text fill is a fill). Tasks that can tell may draw several tries (`sigma.tries`)."""

    def position(self, value: Value, index: int) -> Any:
        """A sequence index as a client names it (a maze cell's [row, column], a token's index)."""

    def token_json(self, token: int) -> Any:
        """A token as the API streams it."""

    def token_label(self, token: int) -> str:
        """A token as a chart labels it."""

    def examples(self, model: SigmaGPT | None) -> list[str]:
        """Inputs that work offline, for the page and the load tool."""


def top_choices(task: Task, probs: Tensor, known: list[bool], k: int) -> list[tuple[int, list[tuple[str, float]]]]:
    """For every unknown position, the k likeliest of the task's choices with their probabilities
    (renormalised over the choices): [(index, [(label, p), ...]), ...]."""
    choices = list(task.choices) if task.choices is not None else list(range(probs.shape[-1]))
    unknown = [i for i, k_ in enumerate(known) if not k_]
    sub = probs[unknown][:, choices]
    sub = sub / sub.sum(dim=-1, keepdim=True).clamp(min=1e-12)
    values, indices = sub.topk(min(k, len(choices)), dim=-1)
    out = []
    for i, ps, js in zip(unknown, values.tolist(), indices.tolist(), strict=True):
        out.append((i, [(task.token_label(choices[j]), round(p, 4)) for p, j in zip(ps, js, strict=True)]))
    return out

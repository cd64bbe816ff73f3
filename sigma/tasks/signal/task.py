"""Aircraft vertical profiles as a `sigma.task.Task`, with the shipped example flights.

The profiles come from OpenAP's flight generator (see `train/signal_data.py`, the only code that needs OpenAP);
a few test flights ship in `signal_data.json` for the examples.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch
from torch import Tensor

from sigma.settings import Settings
from sigma.tasks.signal.judge import Flown, judge
from sigma.tasks.signal.profile import (
    BIN_FT,
    FORECAST_KNOWN,
    LENGTH,
    VOCAB_SIZE,
    Profile,
    format_profile,
    label,
    masked,
    parse_profile,
    show_run,
)

EXAMPLES_FILE = Path(__file__).with_name("signal_data.json")
SPREAD_N = 32  # draws behind a fan chart, sampled as one batch
MAX_DRAWS = 64  # the most one spread may ask for


@cache
def example_flights() -> tuple[dict, ...]:
    """The test flights shipped with the task: {"type", "seed", "tokens"} each."""
    return tuple(json.loads(EXAMPLES_FILE.read_text())["flights"])


def forecast_known(length: int = LENGTH) -> list[bool]:
    """A forecast's known steps: the first third of the flight."""
    return [i < FORECAST_KNOWN * length // LENGTH for i in range(length)]


def _points(k: int, length: int = LENGTH) -> list[bool]:
    """k steps spread over the flight, both ends included: _points(3, 5) -> [T, F, T, F, T]."""
    at = {round(i * (length - 1) / (k - 1)) for i in range(k)}
    return [i in at for i in range(length)]


EXAMPLE_LABELS = (
    "forecast from the first third",
    "forecast a long haul",
    "fill a gap",
    "rebuild from five points",
    "every eighth step",
    "a free flight through FL370",
)


def examples() -> list[str]:
    """Offline inputs, in EXAMPLE_LABELS' order, from the shipped test flights; hidden steps keep their truth."""
    f = [list(x["tokens"]) for x in example_flights()]
    gap = [not LENGTH // 4 <= i < 3 * LENGTH // 4 for i in range(LENGTH)]
    every8 = [i % 8 == 0 or i == LENGTH - 1 for i in range(LENGTH)]
    free = "0, ?*63, FL370, ?*62, 0"
    picks = ((f[0], forecast_known()), (f[1], forecast_known()), (f[2], gap), (f[3], _points(5)), (f[4], every8))
    return [*(format_profile(masked(t, k)) for t, k in picks), free]


class SignalTask:
    """Vertical profiles as a `sigma.task.Task`: the value is a `Profile`, the answer its unknown steps."""

    name, verb, shown_as = "signal", "fill", "values"  # /fill_signal
    valid_means = ""  # any profile is a profile
    defaults = Settings(sampler="exact-confident", temperature=0.7)  # 1.0 adds 500 ft jitter to level flight
    # A spread shows the model's own distribution, drawn exactly: the defaults' sharper draws make bands too narrow
    spread = Settings(sampler="exact", temperature=1.0)
    choices = None  # every token is an altitude bin

    def check_model(self, model) -> str | None:
        c = model.config
        if c.vocab_size != VOCAB_SIZE:
            return f"has vocab_size {c.vocab_size}, not the signal task's {VOCAB_SIZE} altitude bins"
        if c.block_size != LENGTH or getattr(c, "grid", None) is not None:
            return f"reads {c.block_size} positions{' on a grid' if c.grid else ''}, not a {LENGTH}-step profile"
        return None

    def parse(self, source: str | Profile, model) -> Profile:
        if isinstance(source, Profile):
            if len(source.tokens) != LENGTH:
                raise ValueError(f"The profile has {len(source.tokens)} steps; the model reads exactly {LENGTH}.")
            return source
        return parse_profile(source, LENGTH)

    def problem(self, profile: Profile) -> str | None:
        if all(profile.known):
            return "Nothing is unknown: write ? (or [altitude]) for the steps the model should draw."
        return None

    def resolve(self, profile: Profile, model, settings: Settings) -> Profile:
        return profile

    def forbid(self, profile: Profile) -> None:
        return None  # any altitude may follow any other: the model has learned what is plausible

    def encode(self, profile: Profile) -> tuple[Tensor, Tensor]:
        return torch.tensor(profile.tokens, dtype=torch.long), torch.tensor(profile.known, dtype=torch.bool)

    def show(self, profile: Profile, tokens: list[int], done: list[bool]) -> str:
        return show_run(profile, tokens, done)

    def verdict(self, profile: Profile, tokens: list[int]) -> Flown:
        return judge(profile, tokens)

    def accept(self, profile: Profile, tokens: list[int]) -> None:
        return None  # any profile through the pins is a forecast

    def position(self, profile: Profile, index: int) -> int:
        return index

    def token_json(self, token: int) -> int:
        return int(token) * BIN_FT

    def token_label(self, token: int) -> str:
        return label(token)

    def examples(self, model) -> list[str]:
        return examples()


TASK = SignalTask()

"""The six sampler settings a person or a client chooses, in one place: names, bounds and checks.

The app's sliders, the API's validation and the engine's keyword arguments all read these bounds, so
a value the page offers is a value the API accepts, and the other way round.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

SAMPLERS = ("sequential", "burst", "exact", "exact-confident")
ORDERS = ("random", "l2r", "fractal")  # the orders offered to users; the engine also takes r2l and lists
BOUNDS = {
    "num_orders": (1, 16),  # orders the burst sampler verifies per step
    "temperature": (0.0, 2.0),
    "seed": (0, 2**31 - 1),
    "tries": (1, 16),  # candidates drawn in one batch, for tasks that can check an answer
}
CHOSEN = ("sampler", "order", "num_orders", "temperature", "seed", "tries")  # what a page or client sets


@dataclass(frozen=True)
class Settings:
    """How to sample: `sampler` (the algorithm), `order`, `num_orders` (burst only), `temperature`, `seed`, and
    `tries`: how many candidates to draw in one batch when the task can check an answer (see views.runs).
    `window` and `retry` are a task's defaults, not controls: a page or client keeps them as they are."""

    sampler: str = "exact"
    order: str = "random"
    num_orders: int = 5
    temperature: float = 1.0
    seed: int = 0
    tries: int = 1
    window: int | str | None = "auto"  # drafts verified per step (sigma.window); a task's default, not a control
    retry: Settings | None = None  # a second batch of tries, drawn when none of the first is valid (sigma.tries)

    def chosen(self, *values) -> Settings:
        """These settings with the values a page or client chose, in CHOSEN's order; the rest (window) stay.

        Settings(window=None).chosen("exact", "l2r", 5, 0.5, 7, 4) -> Settings("exact", "l2r", 5, 0.5, 7, 4, None)
        """
        return replace(self, **dict(zip(CHOSEN, values, strict=True)))

    def checked(self) -> Settings:
        """The same settings with numbers as their types; ValueError with a message a user can act on."""
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {_short(self.sampler)}: use one of {', '.join(SAMPLERS)}")
        if self.order not in ORDERS:
            raise ValueError(f"unknown order {_short(self.order)}: use one of {', '.join(ORDERS)}")
        return replace(
            self,
            num_orders=_number(self.num_orders, "num_orders", int),
            temperature=_number(self.temperature, "temperature", float),
            seed=_number(self.seed, "seed", int),
            tries=_number(self.tries, "tries", int),
            window=_window(self.window),
        )

    def engine_kwargs(self) -> dict:
        """Keyword arguments of `sigma.sampling.sample` and `stream` (tries are a batch of rows, not one)."""
        kwargs = asdict(self)
        del kwargs["tries"], kwargs["retry"]
        return kwargs


def _short(value: object) -> str:
    """A value as a message may quote it: never more than 40 characters of a client's input."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: object, name: str, kind: type) -> int | float:
    lo, hi = BOUNDS[name]
    what = "a whole number" if kind is int else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be {what} from {lo} to {hi}, got {_short(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be {what} from {lo} to {hi}, got {_short(value)}") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise ValueError(f"{name} must lie between {lo} and {hi}, got {_short(value)}")
    if kind is int and number != int(number):
        raise ValueError(f"{name} must be a whole number, got {_short(value)}")
    return kind(number)


def _window(value: object) -> int | str | None:
    if value is None or value == "auto":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f'window must be "auto", None or a positive number of drafts, got {_short(value)}')

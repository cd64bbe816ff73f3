"""What a model run costs: one measure for every endpoint, used at the door and again when the run starts.

A run's work is its batch rows (tries, or a spread's draws) times the positions it fills, times what the
burst sampler's extra orders add: they share one model pass per step, and each extra order costs about a
fifth of a row (measured on the shipped checkpoints: a maze with 16 orders takes as long as 4 tries of 1;
a spread of 16 draws with 16 orders as long as 64 draws with 1).

    cost(positions=100, rows=4, sampler="exact", num_orders=5) -> 400.0
    cost(positions=100, rows=1, sampler="burst", num_orders=16) -> 400.0

Two prices come from it:
- at the door (`price`): before the input is parsed (a page event's input lives in its session), positions
  count as one, so a request costs its rows times its order factor; the per-client budget
  (views/gate.py) is kept in these units;
- when the run starts (`views.runs.check_cost`): the same product with the positions the input really has,
  bounded by `views.runs.MAX_COST`.
"""

from __future__ import annotations

import math
from typing import Any

from sigma.settings import BOUNDS, SAMPLERS
from sigma.tasks import signal as sg

ORDER_SHARE = 0.2  # an extra burst order, as a fraction of a row
EVENT_COST = 0.25  # any other queued event (an edit, an animation, a replay, a page load): a quarter of a row
SPREAD_EVENTS = ("signal_spread",)  # page events that draw a fan chart (signal_view.spread)


def order_factor(sampler: Any, num_orders: Any) -> float:
    """order_factor("burst", 16) -> 4.0; any other sampler verifies one order per step: 1.0"""
    if sampler != "burst":
        return 1.0
    return 1.0 + ORDER_SHARE * (_whole(num_orders, *BOUNDS["num_orders"]) - 1)


def cost(positions: int, rows: int, sampler: Any, num_orders: Any) -> float:
    """Positions x rows x the order factor: the work of one run, in position-rows."""
    return max(1, positions) * max(1, rows) * order_factor(sampler, num_orders)


def price(name: str, args: dict[str, Any]) -> float:
    """A model event's price at the door from its arguments by parameter name (positions count as one):
    rows are the draws `n` (spread), else the `tries`; `samplers` (a race or a compare) adds one lane each.
    Values a client got wrong are priced at their bounds; the run itself refuses them with a sentence.

    price("solve_maze", {"sampler": "burst", "num_orders": 16, "tries": 4}) -> 16.0
    price("compare", {"samplers": ["sequential", "burst"], "num_orders": 6, "tries": 2}) -> 6.0
    """

    if name in SPREAD_EVENTS:  # the page's fan chart: its own draws and sampler, whatever the page's settings
        own = sg.TASK.spread
        return cost(1, sg.SPREAD_N, own.sampler, own.num_orders)
    if "n" in args:
        rows = _whole(args["n"], 2, sg.MAX_DRAWS)
    else:
        rows = _whole(args.get("tries", 1), *BOUNDS["tries"])
    samplers = args.get("samplers")
    if isinstance(samplers, list | tuple):
        lanes = [s for s in samplers if s in SAMPLERS] or ["exact"]
        return sum(cost(1, rows, lane, args.get("num_orders", 1)) for lane in lanes[: len(SAMPLERS)])
    return cost(1, rows, args.get("sampler"), args.get("num_orders", 1))


def _whole(value: Any, lo: int, hi: int) -> int:
    """A client's number clamped into [lo, hi]; anything that is not a number is priced at hi.

    _whole("5", 1, 16) -> 5;  _whole(1e9, 1, 16) -> 16;  _whole("x", 1, 16) -> 16
    """
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return hi
    if not math.isfinite(number):
        return hi
    return int(min(max(math.ceil(number), lo), hi))

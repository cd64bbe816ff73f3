"""A sampling run as a list of frames: what every position looks like after each model step.

The engine's `stream()` yields `StepEvent`s for a batch; the views need, for one sequence, the state
of each position (known, drafted, accepted, rejected, replaced, settled earlier), its fill rank and the
running counts. A `Frame` holds exactly that, as plain lists, so the maze and text views and the API
share one reading of the events.
"""

from __future__ import annotations

import contextvars
import ctypes
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from sigma import SigmaGPT
from sigma.sampling import StepEvent, conditional_density, stream
from sigma.settings import Settings
from sigma.task import Task
from sigma.tries import Tries, checked, second_batch
from views import cost

TIME_LIMIT_S = 10.0  # model work per request; a small Space must not be held by one user
MAX_COST = 8192  # views.cost.cost of one run (positions x rows x order factor): about 3 s of one core at most
STOPPED: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar("stopped", default=None)


@dataclass
class Frame:
    """One sequence after `step` model steps (step 0: before any model call)."""

    step: int
    tokens: list[int]
    done: list[bool]
    known: list[bool]  # fixed by the user (maze cells, pins, unblanked text)
    rank: list[int | None]  # order in which sampled positions settled, 1-based
    settled_step: list[int | None] = field(default_factory=list)  # the step at which each position settled
    drafted: dict[int, int] = field(default_factory=dict)  # position -> drafted token, this step
    accepted: list[int] = field(default_factory=list)
    rejected: int | None = None
    rejected_token: int | None = None
    replacement: int | None = None  # token settled at `rejected` (exact samplers); None: thrown back
    model_calls: int = 0
    tokens_done: int = 0
    seconds: float = 0.0  # model work so far, animation excluded
    finished: bool = False
    tries: Tries | None = None  # on the last frame of a run of several tries: all of them, and which is shown

    @property
    def to_fill(self) -> int:
        """Positions to sample: what one-token-at-a-time decoding needs in model calls."""
        return self.known.count(False)

    @property
    def settled_now(self) -> int:
        return len(self.accepted) + (self.replacement is not None)

    @property
    def has_news(self) -> bool:
        """Whether the frame shows its step's drafts or verdicts (accepted, rejected, replaced)."""
        return bool(self.drafted or self.accepted) or self.rejected is not None

    def at_rest(self) -> Frame:
        """The frame without its step's drafts and verdicts: how a finished run stays on the page once its last
        step's flash is over."""
        return replace(self, drafted={}, accepted=[], rejected=None, rejected_token=None, replacement=None)


def frames(
    model: SigmaGPT,
    tokens: torch.Tensor,
    known: torch.Tensor,
    settings: Settings,
    forbid: torch.Tensor | None = None,
    accept: Callable[[list[int]], bool | None] | None = None,
) -> Iterator[Frame]:
    """Frames of one run: the input at once (so a page can draw before the first model call), then one
    per model step. With `accept` and settings.tries > 1, all tries are sampled in one batch first and the
    frames are those of the try `sigma.tries.choose` keeps (from the retry's batch, when the settings name one and
    no try of the first was valid); the last frame carries the `Tries`. Raises
    TimeoutError once the model work passes TIME_LIMIT_S. `settings` are checked where they entered."""
    s = settings
    n = s.tries if accept is not None else 1
    known_list = known.tolist()
    first = Frame(0, tokens.tolist(), list(known_list), known_list, [None] * len(known_list))
    first.settled_step = list(first.rank)
    yield first
    if first.to_fill == 0:
        first.finished = True
        return
    if n == 1:
        events = stream(model, tokens[None], known[None], **s.engine_kwargs(), forbid=forbid)
        yield from _row_frames(bounded(events), 0, known_list)
        release_memory()
        return
    kept, tries = _tries(model, tokens, known, s, forbid, accept)
    retry = second_batch(s.retry, s.tries, s.seed)
    if not tries.n_valid and retry is not None:
        first_batch, spent = tries, kept[-1][1]
        kept, tries = _tries(model, tokens, known, retry, forbid, accept, spent)
        tries = tries.after(first_batch, retry)
    for frame in _row_frames(iter(kept), tries.row, known_list):
        if frame.finished:
            frame.tries = tries
        yield frame


def _tries(model, tokens, known, settings: Settings, forbid, accept, spent: float = 0.0):
    """A batch of `settings.tries` rows run to the end (its events, with the seconds of model work since the
    run began: `spent` before this batch), checked and ranked."""
    rows = settings.tries
    events = stream(model, tokens.expand(rows, -1), known.expand(rows, -1), **settings.engine_kwargs(), forbid=forbid)
    kept = list(bounded(events, spent))
    release_memory()
    last = kept[-1][0]
    return kept, checked(last.tokens, last.log_likelihood, accept)


def bounded(events: Iterator[StepEvent], spent: float = 0.0) -> Iterator[tuple[StepEvent, float]]:
    """Each event with the seconds of model work so far (`spent` before these events); TimeoutError past
    TIME_LIMIT_S, or between steps once the STOPPED hook (set by views.gate for the run it started) says nobody
    is reading."""
    seconds = spent
    while True:
        start = time.perf_counter()
        event = next(events, None)
        seconds += time.perf_counter() - start
        if event is None:
            return
        if seconds > TIME_LIMIT_S:
            raise TimeoutError(f"the model worked for more than {TIME_LIMIT_S:.0f} s; try a smaller input")
        if (stopped := STOPPED.get()) is not None and stopped():
            raise TimeoutError("the run was stopped: nobody is reading it any more")
        yield event, seconds


def _row_frames(timed: Iterator[tuple[StepEvent, float]], row: int, known_list: list[bool]) -> Iterator[Frame]:
    """The frames of one row of a batched run, up to the step that finished it."""
    rank: list[int | None] = [None] * len(known_list)
    settled_step: list[int | None] = list(rank)
    filled = 0
    for event, seconds in timed:
        mine = [rs for rs in event.rows if rs.row == row]
        finished = bool(event.done[row].all())
        frame = Frame(event.step + 1, event.tokens[row].tolist(), event.done[row].tolist(), known_list, rank)
        frame.model_calls, frame.seconds, frame.finished = int(event.model_calls[row]), seconds, finished
        for rs in mine:
            frame.drafted = dict(zip(rs.drafted, rs.draft_tokens, strict=True))
            frame.accepted = list(rs.accepted)
            frame.rejected, frame.rejected_token = rs.rejected, rs.rejected_token
            frame.replacement = rs.replacement_token
            frame.tokens_done = rs.tokens_done
            for pos in rs.accepted + ([rs.rejected] if rs.replacement_token is not None else []):
                filled += 1
                rank[pos], settled_step[pos] = filled, frame.step
        frame.rank, frame.settled_step = list(rank), list(settled_step)
        yield frame
        if finished:
            return


def start(task: Task, model: SigmaGPT, source: Any, settings: Settings) -> tuple[Any, Iterator[Frame]]:
    """Check the settings (where they enter: the page and the API both come here), parse and check one input,
    then the frames of its run. Bad input raises ValueError before any model work, with the task's own
    sentence. A task that cannot check an answer runs one try, whatever `tries` says."""
    settings = settings.checked()
    value = task.parse(source, model)
    problem = task.problem(value)
    if problem:
        raise ValueError(problem)
    value = task.resolve(value, model, settings)
    tokens, known = task.encode(value)
    # one try needs no check; several need a task that can check (asked once, on the input)
    checks = settings.tries > 1 and task.accept(value, tokens.tolist()) is not None
    accept = functools.partial(task.accept, value) if checks else None
    if accept is None:
        settings = replace(settings, tries=1)
    check_cost(int((~known).sum()), settings)
    forbid = task.forbid(value)
    device = model.device
    return value, frames(model, tokens.to(device), known.to(device), settings, forbid, accept)


def check_cost(to_fill: int, settings: Settings, rows: int | None = None) -> None:
    """Refuse a run whose work (views.cost.cost: positions x rows x order factor; rows: the tries and a retry's,
    unless given) is over MAX_COST, saying what to lower. `settings` are checked where they entered."""
    s = settings
    retry = second_batch(s.retry, s.tries, s.seed)
    rows = s.tries + (retry.tries if retry else 0) if rows is None else rows
    work = cost.cost(to_fill, rows, s.sampler, s.num_orders)
    if work > MAX_COST:
        raise ValueError(
            f"This run would cost {work:g} ({to_fill} positions x {rows} rows x "
            f"{cost.order_factor(s.sampler, s.num_orders):g} for the orders); the limit is {MAX_COST}. "
            "Use fewer tries, draws, orders or blanks."
        )


def release_memory() -> None:
    """Give the allocator's freed pages back to the OS after a run (glibc keeps them otherwise: a few large
    burst runs left the process at several GB). A no-op where glibc is not the C library."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def one_pass(model: SigmaGPT, tokens: list[int], known: list[bool], forbid: torch.Tensor | None = None) -> torch.Tensor:
    """p(x_r | known) of every position from one model pass, [T, V] on the CPU; ValueError when nothing
    is unknown, since then there is nothing to look at."""
    if all(known):
        raise ValueError("Nothing is unknown, so there is nothing to look at: unpin or blank something first.")
    batch = {"device": model.device}
    x, k = torch.tensor([tokens], **batch), torch.tensor([known], **batch)
    return conditional_density(model, x, k, forbid=forbid)[0].cpu()


@dataclass
class Run:
    """The last finished run of a tab, as the page keeps it: which task, its parsed input, every frame, and the
    input as the page sent it and how many edits of it the session had made (so that nothing draws the run over
    an input typed since; views.handlers.Displays)."""

    task: str
    value: Any
    frames: list[Frame]
    source: Any = None
    edition: int = 0

    def frame(self, step: float) -> Frame:
        return self.frames[min(max(int(step), 0), len(self.frames) - 1)]

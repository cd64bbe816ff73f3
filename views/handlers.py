"""The run handlers of any task (start, animate, scrub, replay, inspect, race, export), bound to a tab's view,
and the few handlers every tab shares. Per-task editing lives in each task's view module."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from sigma.settings import Settings
from views import charts, export, status
from views.models import SLOTS, model_of
from views.outputs import Edited, Raced, RunOutputs, Shown, reports
from views.race import clock, race, race_html
from views.runs import Frame, Run, one_pass, start
from views.view import TaskView

SPEEDS = {"instant": 0.0, "fast": 0.05, "normal": 0.2, "slow": 0.5}  # seconds between frames
MAX_ANIMATION_S = 15.0  # a slow animation of a long run is sped up to fit
RACE_S = 8.0  # a race's replay on the shared clock takes at most this long
MIN_ANIMATION_S = {"instant": 0.0, "fast": 0.5, "normal": 1.5, "slow": 3.0}  # a short run is slowed to be seen


# ---------------------------------------------------------------- runs of any task: start, play, scrub, replay


def _show(view: TaskView, value: Any, frame: Frame, order_map: bool = False) -> tuple[str, str, str]:
    """Drawing, status line (with the verdict once finished) and result text of one frame."""
    said, tone = "", "info"
    if frame.finished and frame.model_calls:
        verdict = view.task.verdict(value, frame.tokens)
        said, tone = verdict.sentence, verdict.tone
        if frame.tries is not None:
            means = view.task.valid_means
            said = f"{said} ({frame.tries.summary()}; valid: {means}. Selection among samples, see About.)"
    result = view.task.show(value, frame.tokens, frame.done)
    return view.draw(value, frame, order_map=order_map), status.progress(frame, said, tone), result


class Edits:
    """When each session last edited each tab's input, so that an animation of an older input stops at its next
    frame. An edit also cancels the animation through Gradio, but under load a frame already under way could
    still land after the edit's own output; this check does not depend on that race. Bounded: oldest first out."""

    def __init__(self, capacity: int = 10_000):
        self.when: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.capacity = capacity

    def note(self, session: str | None, tab: str) -> None:
        self.when[(session or "", tab)] = time.monotonic()
        self.when.move_to_end((session or "", tab))
        while len(self.when) > self.capacity:
            self.when.popitem(last=False)

    def since(self, session: str | None, tab: str, start: float) -> bool:
        """Whether the session edited the tab's input after `start` (time.monotonic())."""
        return self.when.get((session or "", tab), -math.inf) > start


EDITS = Edits()


def play(
    view: TaskView, value: Any, frames: list[Frame], speed: str, stale: Callable[[], bool] = lambda: False
) -> Iterator[RunOutputs]:
    """Play a computed run at the chosen speed. Except at "instant", each step takes two beats, its drafts
    and then what was accepted, rejected and replaced; a run lasts at least MIN_ANIMATION_S (a two-step run
    can be followed by eye) and at most MAX_ANIMATION_S. It stops, drawing nothing more, once `stale()`."""
    delay, steps = SPEEDS.get(speed, 0.0), max(1, len(frames) - 1)
    beat = min(max(delay, MIN_ANIMATION_S.get(speed, 0.0) / steps), MAX_ANIMATION_S / steps) / 2 if delay else 0.0
    skip = gr.skip()
    for i, frame in enumerate(frames):
        if stale():
            return
        if beat and i > 0 and frame.drafted:
            drafts = replace(
                frames[i - 1], step=frame.step, drafted=frame.drafted, accepted=[], rejected=None, replacement=None
            )
            drawing, line, _ = _show(view, value, drafts)
            yield RunOutputs(drawing, line, skip, skip, skip, skip, skip)
            time.sleep(beat)
            if stale():
                return
        drawing, line, result = _show(view, value, frame)
        if frame.finished:
            scrub = gr.update(maximum=len(frames) - 1, value=len(frames) - 1, interactive=True)
            steps_chart, calls_chart = charts.accepted_per_step(frames), charts.done_vs_calls(frames)
            yield RunOutputs(drawing, line, scrub, skip, steps_chart, calls_chart, result)
        elif i == 0 or beat:
            yield RunOutputs(drawing, line, skip, skip, skip, skip, skip)
            time.sleep(beat)


@dataclass(frozen=True)
class RunHandlers:
    """The run handlers of one tab, bound to its view; app.py wires them."""

    start: Callable
    animate: Callable
    scrub: Callable
    replay: Callable
    inspect: Callable
    race: Callable
    race_animate: Callable
    export: Callable


def run_handlers(view: TaskView) -> RunHandlers:
    task, slot = view.task, SLOTS[view.task.name]
    button = view.run_label

    def start_run(source, sampler, order, num_orders, temperature, seed, tries):
        """Model work only: the input at once, then every frame computed; `animate` plays them after,
        outside the model slots, so that an animation's pauses never hold up another person's run."""
        settings = task.defaults.chosen(sampler, order, num_orders, temperature, seed, tries)
        value, run_frames = start(task, model_of(slot), source, settings)
        first = next(run_frames)
        drawing, line, _ = _show(view, value, first)
        skip = gr.skip()
        yield RunOutputs(drawing, line, skip, skip, skip, skip, "")  # the last run's result goes as this one starts
        yield RunOutputs(skip, skip, skip, Run(task.name, value, [first, *run_frames], source), skip, skip, skip)

    def animate(run: Run | None, speed: str, source=None, request: gr.Request = None):
        """Play the run `start` kept; after a refused start there is none, and the refusal stays on the page
        (a generator that yields nothing would blank every output). An input edited since the run started wins:
        an edit cancels the animation, but one Gradio starts after the cancel, or a frame under way, must not
        draw over the new input either."""
        if run is None or (source is not None and run.source != source):
            yield RunOutputs.unchanged()
            return
        yield from play(view, run.value, run.frames, speed, _stale_after(request, task.name))

    def scrub(run: Run | None, step: float, order_map: bool = False) -> RunOutputs:
        """One step of the last run; with the order map, every settled position coloured by its step."""
        if not run:
            raise ValueError(f"No run yet: press {button} first, then scrub through its steps.")
        drawing, line, result = _show(view, run.value, run.frame(step), order_map=bool(order_map))
        skip = gr.skip()
        return RunOutputs(drawing, line, skip, skip, skip, skip, result)

    def replay(run: Run | None, speed: str, request: gr.Request = None):
        if not run:
            raise ValueError(f"No run yet: press {button} first, then replay it.")
        speed = speed if speed != "instant" else "normal"
        yield from play(view, run.value, run.frames, speed, _stale_after(request, task.name))

    def look(source, run: Run | None, step: float, k: float = 5) -> Shown:
        """One model pass over the input, or over the scrubbed frame of the last run while it is partial."""
        model = model_of(slot)
        value = task.parse(source, model)
        frame = run.frame(step) if run and run.value == value else None
        if frame is not None and not frame.finished:
            tokens, known = frame.tokens, frame.done
        else:
            tokens, known = (t.tolist() for t in task.encode(value))
        probs = one_pass(model, tokens, known, task.forbid(value))
        return Shown(view.density_figure(value, probs, known, int(k)), gr.skip())

    def start_race(source, samplers, order, num_orders, temperature, seed) -> Raced:
        settings = task.defaults.chosen(task.defaults.sampler, order, num_orders, temperature, seed, 1)
        value, lanes = race(task, model_of(slot), source, settings, samplers)
        return Raced(race_html(view, value, lanes, 0), gr.skip(), (value, lanes))

    def animate_race(kept, speed: str):
        if kept is None:
            yield Raced(gr.skip(), gr.skip(), gr.skip())  # the refusal stays on the page
            return
        value, lanes = kept
        ticks = clock(lanes)
        pause = min(SPEEDS.get(speed, 0.0) / 2, RACE_S / max(1, len(ticks)))
        for calls in ticks if pause else ticks[-1:]:
            yield Raced(race_html(view, value, lanes, calls), gr.skip(), gr.skip())
            time.sleep(pause)
        said = " · ".join(f"{lane.sampler}: {lane.figures()['tokens_per_call']} tokens/call" for lane in lanes)
        yield Raced(gr.skip(), status.message(f"Race over. {said}.", "info"), gr.skip())

    def export_run(run: Run | None) -> tuple:
        if not run:
            raise ValueError(f"No run yet: press {button} first, then export it.")
        files = [str(p) for p in export.write(view, run.value, run.frames)]
        return gr.update(value=files, visible=True), status.message(
            "Exported: an animated GIF of the run and its events as JSON.", "good"
        )

    name = task.name
    return RunHandlers(
        start=reports(RunOutputs)(_named(start_run, f"{name}_{task.verb}")),
        animate=reports(RunOutputs)(_named(animate, f"{name}_animate")),
        scrub=reports(RunOutputs)(_named(scrub, f"{name}_scrub")),
        replay=reports(RunOutputs)(_named(replay, f"{name}_replay")),
        inspect=reports(Shown)(_named(look, f"{name}_inspect")),
        race=reports(Raced)(_named(start_race, f"{name}_race")),
        race_animate=reports(Raced)(_named(animate_race, f"{name}_race_animate")),
        export=reports(Shown)(_named(export_run, f"{name}_export")),
    )


def _stale_after(request: gr.Request | None, tab: str) -> Callable[[], bool]:
    """Whether the request's session has edited the tab's input since now (never, without a request)."""
    start, session = time.monotonic(), getattr(request, "session_hash", None)
    return lambda: request is not None and EDITS.since(session, tab, start)


def note_edit(tab: str) -> Callable:
    """The handler that records a session's edit of a tab's input (wired beside the edit itself)."""

    def noted(request: gr.Request) -> None:
        EDITS.note(request.session_hash, tab)

    return _named(noted, f"{tab}_noted")


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return fn


def clear_run() -> RunOutputs:
    """What an edit leaves: no run (its result, scrub and charts go with the input they came from)."""
    return RunOutputs.cleared()


def banners(*tasks: str) -> Callable[[], tuple[str, ...]]:
    """For the tabs of these tasks, a red line where the checkpoint is missing, saying how to get one."""

    def lines() -> tuple[str, ...]:
        slots = [SLOTS[name] for name in tasks]
        return tuple(status.message(slot.missing_message(), "bad") if slot.get() is None else "" for slot in slots)

    return lines


def typed(parse: Callable[[str], tuple[Any, str, str, bool]], name: str) -> Callable:
    """An edit handler for a tab whose input is typed text: `parse(text)` gives the value, its drawing, the
    status line and whether it can be run; a ValueError clears them and disables the run button."""

    def edit(text: str) -> Edited:
        value, drawing, line, ready = parse(text)
        return Edited(value, drawing, line, gr.update(interactive=ready))

    return reports(Edited)(_named(edit, name))


def model_figure(figure: Callable[..., Any], task: str, name: str) -> Callable:
    """A model-work handler that draws `figure(model, value, settings)` under a tab's status line."""

    def draw(value, sampler, order, num_orders, temperature, seed, tries) -> Shown:
        if value is None:
            raise ValueError("There is no valid input yet: fix the one above first.")
        settings = Settings(sampler, order, num_orders, temperature, seed, tries).checked()  # where they enter
        return Shown(figure(model_of(SLOTS[task]), value, settings), gr.skip())

    return reports(Shown)(_named(draw, name))

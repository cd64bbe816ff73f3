"""The run handlers of any task (start, animate, scrub, replay, inspect, race, export), bound to a tab's view,
and the few handlers every tab shares. Per-task editing lives in each task's view module."""

from __future__ import annotations

import inspect
import math
import threading
import typing
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from sigma.settings import Settings
from views import charts, export, status
from views.models import SLOTS, model_of
from views.outputs import Charted, Edited, Forgotten, Raced, RunOutputs, Shown, reports
from views.race import clock, race, race_html
from views.runs import Frame, Run, one_pass, start
from views.view import TaskView

SPEEDS = {"instant": 0.0, "fast": 0.05, "normal": 0.2, "slow": 0.5}  # seconds between frames
MAX_ANIMATION_S = 15.0  # a slow animation of a long run is sped up to fit
RACE_S = 8.0  # a race's replay on the shared clock takes at most this long
MIN_ANIMATION_S = {"instant": 0.0, "fast": 0.5, "normal": 1.5, "slow": 3.0}  # a short run is slowed to be seen

EXPORTED = "Exported run: an animated GIF of it and its events as JSON"
TOP_K = 10  # the most choices Inspect lists for a position (the Top-k slider's end)


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


@dataclass
class Playing:
    """One run or animation drawing on the page: `stop` asks it to end at once, `over` says it has returned."""

    stop: threading.Event
    over: threading.Event


class Displays:
    """What each session's tab may still draw. The page's input changes only through an edit (`end`), which
    counts a new edition of the tab when the value really changed, stops the run computing or the animation
    playing there, and waits until it has returned: Gradio resumes a generator only after it has queued its
    previous output for the page, so everything the old run sends is on its way before the edit's own output,
    and the page draws the new input last, whatever the load. A run whose input is no longer the page's
    (`edition_of` gives None), or an animation of a run made at an older edition (`playing` gives None), never
    starts. An edit that leaves the value as it was (a write-back of the same text) ends nothing, so a run
    started just after the first edit survives its echo. Bounded: the oldest session's entries go first."""

    def __init__(self, capacity: int = 10_000, wait_s: float = 3.0):
        self.lock = threading.Lock()
        self.shown: OrderedDict[tuple[str, str], tuple[int, Any]] = OrderedDict()  # -> (edition, input value)
        self.now_playing: dict[tuple[str, str, str], Playing] = {}  # (session, tab, "run" or "race")
        self.capacity, self.wait_s = capacity, wait_s

    def edition_of(self, session: str | None, tab: str, source: Any) -> int | None:
        """The tab's edition when `source` is the input the page shows (0 without a session: an API call);
        None when an edit has replaced it."""
        with self.lock:
            edition, shown = self.shown.get((session or "", tab), (0, source))
        return edition if not session or shown == source else None

    def end(self, session: str | None, tab: str, value: Any) -> bool:
        """An edit to `value`: unless the page shows that (valid) value already, nothing made before it may
        draw again; returns True once the run or animation under way has stopped, False for no change."""
        if not session:
            return True
        key = (session, tab)
        with self.lock:
            if value is not None and key in self.shown and self.shown[key][1] == value:
                return False
            self.shown[key] = (self.shown.get(key, (0, None))[0] + 1, value)
            self.shown.move_to_end(key)
            while len(self.shown) > self.capacity:
                self.shown.popitem(last=False)
            playing = [self.now_playing.get((*key, kind)) for kind in ("run", "race")]
        for one in filter(None, playing):
            one.stop.set()
        for one in filter(None, playing):
            one.over.wait(self.wait_s)
        return True

    @contextmanager
    def playing(
        self, session: str | None, tab: str, edition: int | None, kind: str = "run"
    ) -> Iterator[threading.Event | None]:
        """Register a run or its animation (kind "run"), or a race's (kind "race"), made at `edition`; yields
        the event that stops it, or None when the input was edited since. A newer one of the same kind (another
        run, a replay) stops the older one first."""
        key, me = (session or "", tab, kind), Playing(threading.Event(), threading.Event())
        if not session or edition is None:
            yield None if edition is None else me.stop
            return
        with self.lock:
            if self.shown.get((session, tab), (0, None))[0] != edition:
                me = None
            else:
                older, self.now_playing[key] = self.now_playing.get(key), me
        if me is None:
            yield None
            return
        if older is not None:
            older.stop.set()
            older.over.wait(self.wait_s)
        try:
            yield me.stop
        finally:
            with self.lock:
                if self.now_playing.get(key) is me:
                    del self.now_playing[key]
            me.over.set()


DISPLAYS = Displays()


def play(
    view: TaskView, value: Any, frames: list[Frame], speed: str, stop: threading.Event | None = None
) -> Iterator[RunOutputs]:
    """Play a computed run at the chosen speed. Except at "instant", each step takes two beats, its drafts
    and then what was accepted, rejected and replaced; a run lasts at least MIN_ANIMATION_S (a two-step run
    can be followed by eye) and at most MAX_ANIMATION_S. It stops, drawing nothing more, once `stop` is set."""
    stop = stop or threading.Event()
    delay, steps = SPEEDS.get(speed, 0.0), max(1, len(frames) - 1)
    beat = min(max(delay, MIN_ANIMATION_S.get(speed, 0.0) / steps), MAX_ANIMATION_S / steps) / 2 if delay else 0.0
    skip, last = gr.skip(), len(frames) - 1
    for i, frame in enumerate(frames):
        if stop.is_set():
            return
        at = gr.update(maximum=last, value=frame.step)  # the scrub follows the animation
        if beat and i > 0 and frame.drafted:
            # the step's drafts before its verdict: its model calls are made, its tokens not yet settled
            drafts = replace(
                frames[i - 1],
                step=frame.step,
                drafted=frame.drafted,
                accepted=[],
                rejected=None,
                replacement=None,
                model_calls=frame.model_calls,
                seconds=frame.seconds,
            )
            drawing, line, _ = _show(view, value, drafts)
            yield RunOutputs(drawing, line, at, skip, skip, skip, skip)
            if stop.wait(beat):
                return
        if frame.finished:
            if beat and frame.has_news:  # the last step's verdict flashes for a beat, as every step's did;
                # "Done" is said once the run is at rest, so that nothing changes on the page after it
                yield RunOutputs(view.draw(value, frame), status.progress(frame), at, skip, skip, skip, skip)
                if stop.wait(beat):
                    return
            drawing, line, result = _show(view, value, frame.at_rest())
            scrub = gr.update(maximum=last, value=last, interactive=True)
            steps_chart, calls_chart = charts.accepted_per_step(frames), charts.done_vs_calls(frames)
            yield RunOutputs(drawing, line, scrub, skip, steps_chart, calls_chart, result)
        elif i == 0 or beat:
            drawing, line, _ = _show(view, value, frame)
            yield RunOutputs(drawing, line, at, skip, skip, skip, skip)
            stop.wait(beat)


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

    def start_run(source, sampler, order, num_orders, temperature, seed, tries, request: gr.Request = None):
        """Model work only: the input at once, then every frame computed; `animate` plays them after,
        outside the model slots, so that an animation's pauses never hold up another person's run. An edit
        of the input stops it between two model steps, drawing nothing more (`Displays`)."""
        edition = DISPLAYS.edition_of(_session(request), task.name, source)
        settings = task.defaults.chosen(sampler, order, num_orders, temperature, seed, tries)
        skip = gr.skip()
        with DISPLAYS.playing(_session(request), task.name, edition) as stop:
            if stop is None:
                yield RunOutputs.unchanged()
                return
            value, run_frames = start(task, model_of(slot), source, settings)
            frames = [next(run_frames)]
            drawing, line, _ = _show(view, value, frames[0])
            yield RunOutputs(drawing, line, skip, skip, skip, skip, "")  # the last run's result goes as it starts
            for frame in run_frames:
                if stop.is_set():
                    return
                frames.append(frame)
            yield RunOutputs(skip, skip, skip, Run(task.name, value, frames, source, edition), skip, skip, skip)

    def play_kept(run: Run, speed: str, request: gr.Request | None) -> Iterator[RunOutputs]:
        """Play a kept run unless the input was edited since it was made (`Displays`)."""
        with DISPLAYS.playing(_session(request), task.name, run.edition) as stop:
            if stop is None:
                yield RunOutputs.unchanged()
                return
            yield from play(view, run.value, run.frames, speed, stop)

    def animate(run: Run | None, speed: str, source=None, request: gr.Request = None):
        """Play the run `start` kept; after a refused start there is none, and the refusal stays on the page
        (a generator that yields nothing would blank every output). An input edited since the run started wins:
        the run never plays, or stops where it is (`Displays`)."""
        if run is None or (source is not None and run.source != source):
            yield RunOutputs.unchanged()
            return
        yield from play_kept(run, speed, request)

    def scrub(run: Run | None, step: float, order_map: bool = False) -> RunOutputs:
        """One step of the last run; with the order map, every settled position coloured by its step. A step
        outside the run (typed into the box) shows the nearest one, and the box says which."""
        if not run:
            raise ValueError(f"No run yet: press {button} first, then scrub through its steps.")
        asked = _number(step)
        frame = run.frame(asked)
        drawing, line, result = _show(view, run.value, frame, order_map=bool(order_map))
        skip = gr.skip()
        moved = gr.update(value=frame.step) if frame.step != asked else skip
        return RunOutputs(drawing, line, moved, skip, skip, skip, result)

    def replay(run: Run | None, speed: str, request: gr.Request = None):
        if not run:
            raise ValueError(f"No run yet: press {button} first, then replay it.")
        yield from play_kept(run, speed if speed != "instant" else "normal", request)

    def look(source, run: Run | None, step: float, k: float = 5) -> Charted:
        """One model pass over the input, or over the scrubbed frame of the last run while it is partial."""
        model = model_of(slot)
        value = task.parse(source, model)
        frame = run.frame(_number(step)) if run and run.value == value else None
        if frame is not None and not frame.finished:
            tokens, known = frame.tokens, frame.done
        else:
            tokens, known = (t.tolist() for t in task.encode(value))
        probs = one_pass(model, tokens, known, task.forbid(value))
        return Charted(view.density_figure(value, probs, known, min(max(int(_number(k)), 1), TOP_K)), gr.skip())

    def start_race(source, samplers, order, num_orders, temperature, seed, request: gr.Request = None):
        """Model work: every sampler's lane. An edit of the input meanwhile waits for it, and it then draws
        nothing (`Displays`)."""
        edition = DISPLAYS.edition_of(_session(request), task.name, source)
        settings = task.defaults.chosen(task.defaults.sampler, order, num_orders, temperature, seed, 1)
        with DISPLAYS.playing(_session(request), task.name, edition, kind="race") as stop:
            if stop is not None:
                value, lanes = race(task, model_of(slot), source, settings, samplers)
            if stop is None or stop.is_set():
                yield Raced(gr.skip(), gr.skip(), gr.skip())
                return
            yield Raced(race_html(view, value, lanes, 0), gr.skip(), (value, lanes, edition))

    def animate_race(kept, speed: str, request: gr.Request = None):
        if kept is None:
            yield Raced(gr.skip(), gr.skip(), gr.skip())  # the refusal stays on the page
            return
        value, lanes, edition = kept
        with DISPLAYS.playing(_session(request), task.name, edition, kind="race") as stop:
            if stop is None:
                yield Raced(gr.skip(), gr.skip(), gr.skip())
                return
            ticks = clock(lanes)
            pause = min(SPEEDS.get(speed, 0.0) / 2, RACE_S / max(1, len(ticks)))
            for calls in ticks if pause else ticks[-1:]:
                yield Raced(race_html(view, value, lanes, calls), gr.skip(), gr.skip())
                if stop.wait(pause):
                    return
        said = " · ".join(f"{lane.sampler}: {lane.figures()['tokens_per_call']} tokens/call" for lane in lanes)
        yield Raced(gr.skip(), status.message(f"Race over. {said}.", "info"), gr.skip())

    def export_run(run: Run | None) -> tuple:
        if not run:
            raise ValueError(f"No run yet: press {button} first, then export it.")
        files = [str(p) for p in export.write(view, run.value, run.frames)]
        # the files say what they are; the status line keeps the run's verdict
        return gr.update(value=files, visible=True, label=EXPORTED), gr.skip()

    name = task.name
    return RunHandlers(
        start=reports(RunOutputs)(_named(start_run, f"{name}_{task.verb}")),
        animate=reports(RunOutputs)(_named(animate, f"{name}_animate")),
        scrub=reports(RunOutputs)(_named(scrub, f"{name}_scrub")),
        replay=reports(RunOutputs)(_named(replay, f"{name}_replay")),
        inspect=reports(Charted)(_named(look, f"{name}_inspect")),
        race=reports(Raced)(_named(start_race, f"{name}_race")),
        race_animate=reports(Raced)(_named(animate_race, f"{name}_race_animate")),
        export=reports(Shown)(_named(export_run, f"{name}_export")),
    )


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def _number(value: Any) -> float:
    """A slider's raw value (its events skip Gradio's range check) as a number; 0 if it is none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def ending(tab: str, edit: Callable[..., Edited], also: int = 0) -> Callable:
    """`edit` (the tab's inputs -> Edited) as the handler of an edit of the tab's input. When the value changed,
    the old run's display ends first (`Displays.end`) and what was made from the old input is forgotten
    (`Forgotten`, and `also` more outputs of the tab, cleared to None) in the same event, so that no late clear
    can wipe a run started after the edit; when it did not (an echo of a write-back), nothing on the page
    changes. Outputs: Edited, then Forgotten, then the `also` outputs."""
    n = len(inspect.signature(edit).parameters)

    def ended(*args):
        values, request = args[:n], (args[n] if len(args) > n else None)
        edited = edit(*values)
        if DISPLAYS.end(_session(request), tab, edited.value):
            return (*edited, *Forgotten.cleared(), *[None] * also)
        return (*[gr.skip()] * len(edited), *Forgotten.unchanged(), *[gr.skip()] * also)

    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    ended.__signature__ = inspect.Signature([*inspect.signature(edit).parameters.values(), request])
    hints = {k: v for k, v in typing.get_type_hints(edit).items() if k != "return"}
    ended.__annotations__ = {**hints, "request": gr.Request}  # Gradio passes the request where it is named
    return _named(ended, edit.__name__)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return fn


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

    def draw(value, sampler, order, num_orders, temperature, seed, tries) -> Charted:
        if value is None:
            raise ValueError("There is no valid input yet: fix the input first.")
        settings = Settings(sampler, order, num_orders, temperature, seed, tries).checked()  # where they enter
        return Charted(figure(model_of(SLOTS[task]), value, settings), gr.skip())

    return reports(Charted)(_named(draw, name))

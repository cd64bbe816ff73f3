"""The page's event handlers: they turn widget values into engine calls and engine results into views.

Every handler returns a named tuple of its outputs, and app.py lists the components in the same named
tuple, so that an output cannot land in the wrong place. Bad input never reaches the page raw: `reports`
turns a ValueError into the outputs' own `failed(message)` (a red line, and whatever depended on the bad
input cleared); `api_guard` turns it into a clean API error. A person's mistake is logged as one line;
anything unexpected is logged with its traceback and reported in one short sentence.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import gradio as gr

from sigma.settings import Settings
from sigma.tasks import maze as mz
from sigma.tasks import signal as sg
from sigma.tasks import text as tx
from views import charts, export, maze_view, signal_view, status, text_view
from views.models import MAZE, SLOTS, TEXT, model_of
from views.race import clock, race, race_html
from views.runs import Frame, Run, one_pass, start
from views.view import TaskView

SPEEDS = {"instant": 0.0, "fast": 0.05, "normal": 0.2, "slow": 0.5}  # seconds between frames
MAX_ANIMATION_S = 15.0  # a slow animation of a long run is sped up to fit
RACE_S = 8.0  # a race's replay on the shared clock takes at most this long
MIN_ANIMATION_S = {"instant": 0.0, "fast": 0.5, "normal": 1.5, "slow": 3.0}  # a short run is slowed to be seen
log = logging.getLogger("studio")


# ---------------------------------------------------------------- what each handler fills, by name


class RunOutputs(NamedTuple):
    """A run: the drawing, the status line, the scrub slider, the kept run, two charts, the result text and
    the exported files."""

    view: Any
    line: Any
    step: Any
    run: Any
    steps_plot: Any
    calls_plot: Any
    result: Any
    exported: Any = gr.skip()  # the last run's export: it goes when the run goes

    @classmethod
    def failed(cls, message: str) -> RunOutputs:
        """A run that could not start leaves no trace of an older one: scrub, charts and result clear."""
        return cls.cleared()._replace(line=status.message(message, "bad"))

    @classmethod
    def unchanged(cls) -> RunOutputs:
        return cls(*[gr.skip()] * len(cls._fields))

    @classmethod
    def cleared(cls) -> RunOutputs:
        """No run: what the page shows once the input it was made from has changed."""
        idle = gr.update(value=0, maximum=1, interactive=False)
        steps, calls = charts.waiting(charts.STEPS_WAITING), charts.waiting(charts.CALLS_WAITING)
        return cls(gr.skip(), gr.skip(), idle, None, steps, calls, "", gr.update(value=None, visible=False))


class Shown(NamedTuple):
    """A drawing (board, tokens or density chart) and the status line under it."""

    view: Any
    line: Any

    @classmethod
    def failed(cls, message: str) -> Shown:
        return cls(gr.skip(), status.message(message, "bad"))


class Raced(NamedTuple):
    """A race: every lane's drawing and counters, the status line, and the kept race."""

    view: Any
    line: Any
    race: Any

    @classmethod
    def failed(cls, message: str) -> Raced:
        return cls("", status.message(message, "bad"), None)


class Clicked(NamedTuple):
    """A click on the board: the new ASCII, or a note on why the click changed nothing."""

    source: Any
    line: Any

    @classmethod
    def failed(cls, message: str) -> Clicked:
        return cls(gr.skip(), status.message(message, "bad"))


class Edited(NamedTuple):
    """A tab's input after an edit: the parsed value a run starts from (None while the input is invalid),
    its drawing, the status line, and the run button, which works only while the input can be run."""

    value: Any
    view: Any
    line: Any
    action: Any
    source: Any = gr.skip()  # the input box, where an edit on the drawing must be written back

    @classmethod
    def failed(cls, message: str) -> Edited:
        """Invalid input clears what depends on it: the kept value, its drawing, and the run button."""
        return cls(None, "", status.message(message, "bad"), gr.update(interactive=False))


# ---------------------------------------------------------------- errors never reach the page raw

USER_ERRORS = (ValueError, TimeoutError)


def _internal(err: Exception) -> gr.Error:
    if isinstance(err, gr.Error):
        return err
    log.exception("unexpected error")
    return gr.Error(f"Something went wrong on the server ({type(err).__name__}); it was logged. Try again.")


def _refused(fn: Callable, err: Exception) -> None:
    log.info("refused %s: %s", fn.__name__, str(err)[:200])


def guarded(on_error: Callable[[str], Any]):
    """Bad input (ValueError, TimeoutError) becomes `on_error(message)`; anything else a short gr.Error."""

    def wrap(fn):
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args, **kwargs):
                try:
                    yield from fn(*args, **kwargs)
                except USER_ERRORS as err:
                    _refused(fn, err)
                    yield on_error(str(err))
                except Exception as err:
                    raise _internal(err) from None

            return gen

        @functools.wraps(fn)
        def plain(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except USER_ERRORS as err:
                _refused(fn, err)
                return on_error(str(err))
            except Exception as err:
                raise _internal(err) from None

        return plain

    return wrap


def reports(outputs: type) -> Callable:
    """Guard a handler whose outputs are `outputs` (a named tuple with `failed`)."""
    return guarded(outputs.failed)


def _raise(message: str):
    raise gr.Error(message)


api_guard = guarded(_raise)


# ---------------------------------------------------------------- runs of any task: start, play, scrub, replay


def _show(view: TaskView, value: Any, frame: Frame, order_map: bool = False) -> tuple[str, str, str]:
    """Drawing, status line (with the verdict once finished) and result text of one frame."""
    said, tone = "", "info"
    if frame.finished and frame.model_calls:
        verdict = view.task.verdict(value, frame.tokens)
        said, tone = verdict.sentence, verdict.tone
        if frame.tries is not None:
            said = f"{said} ({frame.tries.summary()}: selection among samples, see About.)"
    result = view.task.show(value, frame.tokens, frame.done)
    return view.draw(value, frame, order_map=order_map), status.progress(frame, said, tone), result


def play(view: TaskView, value: Any, frames: list[Frame], speed: str) -> Iterator[RunOutputs]:
    """Play a computed run at the chosen speed. Except at "instant", each step takes two beats, its drafts
    and then what was accepted, rejected and replaced; a run lasts at least MIN_ANIMATION_S (a two-step run
    can be followed by eye) and at most MAX_ANIMATION_S."""
    delay, steps = SPEEDS.get(speed, 0.0), max(1, len(frames) - 1)
    beat = min(max(delay, MIN_ANIMATION_S.get(speed, 0.0) / steps), MAX_ANIMATION_S / steps) / 2 if delay else 0.0
    skip = gr.skip()
    for i, frame in enumerate(frames):
        if beat and i > 0 and frame.drafted:
            drafts = replace(
                frames[i - 1], step=frame.step, drafted=frame.drafted, accepted=[], rejected=None, replacement=None
            )
            drawing, line, _ = _show(view, value, drafts)
            yield RunOutputs(drawing, line, skip, skip, skip, skip, skip)
            time.sleep(beat)
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
        yield RunOutputs(skip, skip, skip, Run(task.name, value, [first, *run_frames]), skip, skip, skip)

    def animate(run: Run | None, speed: str):
        """Play the run `start` kept; after a refused start there is none, and the refusal stays on the page
        (a generator that yields nothing would blank every output)."""
        if run is None:
            yield RunOutputs.unchanged()
            return
        yield from play(view, run.value, run.frames, speed)

    def scrub(run: Run | None, step: float, order_map: bool = False) -> RunOutputs:
        """One step of the last run; with the order map, every settled position coloured by its step."""
        if not run:
            raise ValueError(f"No run yet: press {button} first, then scrub through its steps.")
        drawing, line, result = _show(view, run.value, run.frame(step), order_map=bool(order_map))
        skip = gr.skip()
        return RunOutputs(drawing, line, skip, skip, skip, skip, result)

    def replay(run: Run | None, speed: str):
        if not run:
            raise ValueError(f"No run yet: press {button} first, then replay it.")
        yield from play(view, run.value, run.frames, speed if speed != "instant" else "normal")

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


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return fn


# ---------------------------------------------------------------- maze editing


def maze_shape() -> tuple[int, int]:
    model = MAZE.get()
    return mz.grid_of(model) if model is not None else (9, 9)


@reports(Clicked)
def maze_click(ascii_maze: str, mode: str, evt: gr.EventData) -> Clicked:
    new, note = maze_view.edit(ascii_maze, int(evt.index), mode)
    return Clicked(gr.skip(), status.message(note, "fair")) if note else Clicked(new, gr.skip())


@reports(Edited)
def maze_show(ascii_maze: str) -> Edited:
    """Redraw the board as typed, parse it, and say whether it can be solved; Solve works only when it can."""
    maze, line = maze_view.readiness(ascii_maze, maze_shape())
    ready = maze is not None and mz.TASK.problem(maze) is None
    return Edited(maze, maze_view.board_html(ascii_maze), line, gr.update(interactive=ready))


def clear_run() -> RunOutputs:
    return RunOutputs.cleared()


def maze_new(family: str) -> str:
    if family not in maze_view.FAMILY_CHOICES:
        family = "any"
    return maze_view.random_maze(random.randrange(10**6), maze_shape(), family)


# ---------------------------------------------------------------- text editing


def block_size() -> int:
    model = TEXT.get()
    return model.config.block_size if model is not None else 128


def _passage_outputs(passage: text_view.Passage, note: str = "") -> Edited:
    note = note or text_view.notes(passage)
    line = status.message(note, "fair") if note else status.message("Ready: press Fill.", "info")
    fillable = tx.TASK.problem(passage) is None
    return Edited(passage, text_view.tokens_html(passage), line, gr.update(interactive=fillable))


@reports(Edited)
def text_parse(text: str, max_length: float = tx.MAX_LENGTH) -> Edited:
    if max_length is None or float(max_length) != int(max_length):
        raise ValueError(f"The longest [...] blank must be a whole number of tokens, got {str(max_length)[:40]!r}.")
    return _passage_outputs(tx.parse_passage(text, block_size(), int(max_length)))


@reports(Edited)
def text_canvas(n: float, pins: str) -> Edited:
    if n is None or float(n) != int(n):
        raise ValueError(f"The canvas size must be a whole number of tokens, got {n!r}.")
    canvas = text_view.canvas(int(n), pins, block_size())
    return _passage_outputs(canvas)._replace(source=tx.blank_syntax(canvas))


def signal_pin(text: str, evt: gr.EventData) -> Any:
    """Clicks and drags on the chart (assets/pin.js sends the strokes of a burst together) as pins, written
    into the profile's text, whose change redraws the chart. The pins go onto the text the box holds now, so
    a click never undoes the one before it. Malformed event data, or no valid profile to pin on, changes
    nothing."""
    data = getattr(evt, "_data", None) or {}
    strokes = data.get("strokes") if isinstance(data, dict) else None
    ok = isinstance(strokes, list) and 0 < len(strokes) <= sg.LENGTH
    ok = ok and all(isinstance(s, list) and 0 < len(s) <= sg.LENGTH and all(map(_point, s)) for s in strokes)
    try:
        profile = sg.TASK.parse(text, None) if ok else None
    except ValueError:
        profile = None
    if profile is None:
        return gr.skip()
    for stroke in strokes:
        profile = signal_view.pinned(profile, [(int(s), float(f)) for s, f in stroke])
    return sg.format_profile(profile)


def _point(p: Any) -> bool:
    return isinstance(p, list) and len(p) == 2 and all(_finite(v) for v in p)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e7


@reports(Edited)
def text_click(passage: text_view.Passage | None, evt: gr.EventData) -> Edited:
    if passage is None:
        raise ValueError("There is no passage yet: type some text, pick an example, or make a canvas.")
    index = int(evt.index)
    toggled = text_view.toggle(passage, index)
    note = "" if toggled != passage or not 0 <= index < len(passage.ids) else text_view.NO_ORIGINAL
    return _passage_outputs(toggled, note)._replace(source=tx.blank_syntax(toggled))


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
        settings = Settings(sampler, order, num_orders, temperature, seed, tries)
        return Shown(figure(model_of(SLOTS[task]), value, settings), gr.skip())

    return reports(Shown)(_named(draw, name))

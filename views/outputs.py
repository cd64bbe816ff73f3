"""What each handler fills, by name, and the guard that keeps errors from reaching the page raw.

Every handler returns a named tuple of its outputs, and app.py lists the components in the same named tuple,
so that an output cannot land in the wrong place. `reports(Outputs)` turns a ValueError (or TimeoutError) into
the outputs' own `failed(message)` (a red line, and whatever depended on the bad input cleared); `api_guard`
turns it into a clean API error. A person's mistake is logged as one line; anything unexpected is logged with
its traceback and reported in one short sentence.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import gradio as gr

from views import charts, status

log = logging.getLogger("studio")


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


class Forgotten(NamedTuple):
    """Everything on a tab made from its input besides the drawing: the kept run (its scrub, charts, result and
    export), the race and the density chart. An edit that changes the input clears them."""

    step: Any
    run: Any
    steps_plot: Any
    calls_plot: Any
    result: Any
    exported: Any
    race_view: Any
    race: Any
    density: Any

    @classmethod
    def cleared(cls) -> Forgotten:
        run = RunOutputs.cleared()
        return cls(run.step, run.run, run.steps_plot, run.calls_plot, run.result, run.exported, "", None, None)

    @classmethod
    def unchanged(cls) -> Forgotten:
        return cls(*[gr.skip()] * len(cls._fields))


class Charted(NamedTuple):
    """A chart made on demand (Inspect's density, the signal's fan chart) and the status line: a refusal is also
    written where the chart goes, where the person who asked for it is looking."""

    chart: Any
    line: Any

    @classmethod
    def failed(cls, message: str) -> Charted:
        return cls(charts.waiting(charts.wrapped(status.sentence(message))), status.message(message, "bad"))


class Shown(NamedTuple):
    """What an action made (an export's files) and the status line."""

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
    message = f"Something went wrong on the server ({type(err).__name__}); it was logged. Try again."
    return gr.Error(message, print_exception=False)  # logged above, with its traceback, once


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
    raise gr.Error(message, print_exception=False)  # a person's mistake: the one line `_refused` logged


api_guard = guarded(_raise)

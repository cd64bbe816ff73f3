"""A task is one plug-in: a tiny fourth task, defined here from one task object and one view, runs through the
page's run handlers (start, animate, scrub, export) and through the API, with no code that names it."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass

import gradio as gr
import plotly.graph_objects as go
import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.settings import Settings
from views import api, export
from views.handlers import run_handlers
from views.models import SLOTS, ModelSlot
from views.outputs import Edited, Forgotten, RunOutputs
from views.view import TaskView

LENGTH = 8


@dataclass(frozen=True)
class Bits:
    tokens: tuple[int, ...]
    known: tuple[bool, ...]


@dataclass(frozen=True)
class Parity:
    """The verdict: whether the filled bits have an even number of ones."""

    even: bool

    @property
    def sentence(self) -> str:
        return "Even." if self.even else "Odd."

    @property
    def tone(self) -> str:
        return "good" if self.even else "bad"

    def as_json(self) -> dict:
        return {"even": self.even, "message": self.sentence}


class BitsTask:
    """Eight bits, some given ('0', '1'), the rest ('?') to fill; a right answer has even parity."""

    name, verb, shown_as = "bits", "fill", "bits"
    valid_means = "an even number of ones"
    defaults = Settings(sampler="exact", temperature=1.0)
    choices = (0, 1)

    def check_model(self, model):
        return None if model.config.vocab_size == 2 else "is not a bits model"

    def parse(self, source, model):
        if isinstance(source, Bits):
            return source
        if not isinstance(source, str) or len(source) != LENGTH or set(source) - set("01?"):
            raise ValueError(f"write {LENGTH} characters, each 0, 1 or ?")
        return Bits(tuple(int(c == "1") for c in source), tuple(c != "?" for c in source))

    def problem(self, value):
        return "Nothing to fill: write a ?" if all(value.known) else None

    def resolve(self, value, model, settings):
        return value

    def forbid(self, value):
        return None

    def encode(self, value):
        return torch.tensor(value.tokens), torch.tensor(value.known)

    def show(self, value, tokens, done):
        return "".join(str(t) if d else "?" for t, d in zip(tokens, done, strict=True))

    def verdict(self, value, tokens):
        return Parity(sum(tokens) % 2 == 0)

    def accept(self, value, tokens):
        return sum(tokens) % 2 == 0

    def position(self, value, index):
        return index

    def token_json(self, token):
        return int(token)

    def token_label(self, token):
        return str(token)

    def examples(self, model):
        return ["1??0????"]


def draw(value, frame=None, order_map=False) -> str:
    tokens = value.tokens if frame is None else frame.tokens
    return "<pre>" + "".join(map(str, tokens)) + "</pre>"


VIEW = TaskView(BitsTask(), draw, lambda value, probs, known, k: go.Figure(), run_label="Fill")


@pytest.fixture
def bits_slot(monkeypatch):
    torch.manual_seed(0)
    slot = ModelSlot("bits", "SIGMA_BITS_MODEL", "")
    slot.model = SigmaGPT(SigmaConfig(vocab_size=2, block_size=LENGTH, n_layer=1, n_head=2, n_embd=16)).eval()
    monkeypatch.setitem(SLOTS, "bits", slot)  # what views.models does for every task module it finds
    return slot


def test_a_fourth_task_runs_through_the_page_handlers(bits_slot, tmp_path):
    on = run_handlers(VIEW)
    outputs = list(on.start("1??0????", "exact", "random", 5, 1.0, 0, 4))
    run = outputs[-1].run
    assert run is not None and run.frames[-1].finished and run.frames[-1].tries is not None  # tries: it can check
    last = run.frames[-1]
    assert last.tokens == last.tries.tokens[last.tries.chosen]
    played = list(on.animate(run, "instant"))
    assert "Even." in str(played[-1].line) or "Odd." in str(played[-1].line)
    assert "tries valid" in str(played[-1].line)
    scrubbed = on.scrub(run, 1)
    assert "<pre>" in scrubbed.view
    last_step = run.frames[-1].step
    beyond = on.scrub(run, 99)  # typed into the box: the nearest step, and the box is told which
    assert beyond.view == on.scrub(run, last_step).view and beyond.step["value"] == last_step
    assert on.scrub(run, -3).step["value"] == 0 and on.scrub(run, "x").view == on.scrub(run, 0).view
    files, line = on.export(run)  # the files, and the status line keeps the run's verdict
    assert len(files["value"]) == 2 and files["label"].startswith("Exported run") and line == gr.skip()
    gif_path, json_path = export.write(VIEW, run.value, run.frames, tmp_path)  # no GIF frame: a strip
    assert gif_path.stat().st_size > 0 and json.loads(json_path.read_text())["task"] == "bits"
    refused = list(on.start("1?", "exact", "random", 5, 1.0, 0, 1))
    assert "Write 8 characters" in str(refused[-1].line)


def test_a_step_s_drafts_are_shown_with_that_step_s_model_calls(bits_slot):
    """The beat that shows step N's drafts (before their verdict) counts step N's model calls, not step N-1's."""
    from views.handlers import play

    run = list(run_handlers(VIEW).start("????????", "exact-confident", "random", 5, 1.0, 0, 1))[-1].run
    played = list(play(VIEW, run.value, run.frames, "fast"))
    beats = [o.line for o in played]
    assert [o.step["value"] for o in played] == sorted(o.step["value"] for o in played)  # the scrub follows
    assert played[-1].step["value"] == run.frames[-1].step
    assert all(o.step["maximum"] == len(run.frames) - 1 for o in played)
    drafted = [f for f in run.frames[1:] if f.drafted]
    assert drafted, "the tiny model's run drafts at some step"
    for frame in drafted:
        calls = f"<b>{frame.model_calls}</b> model call{'s' * (frame.model_calls != 1)} "
        beats_of_step = 2 + (frame is run.frames[-1])  # drafts, verdict; and the last step's run at rest
        assert sum(f"<b>Step {frame.step}</b>" in line and calls in line for line in beats) == beats_of_step


def test_an_inspect_refusal_is_written_where_the_chart_goes(bits_slot):
    """Nothing unknown, nothing to look at: the sentence goes in the chart's place and in the status line."""
    looked = run_handlers(VIEW).inspect("10101010", None, 0)
    assert isinstance(looked.chart, go.Figure) and "Nothing is unknown" in looked.chart.layout.annotations[0].text
    assert "Nothing is unknown" in looked.line


def test_a_fourth_task_gets_its_api_endpoint(bits_slot):
    call = api.endpoint(VIEW.task)
    assert call.__name__ == "fill_bits" and list(call.__signature__.parameters)[0] == "bits"
    events = list(call("??????01", tries=3))
    assert events[-1]["finished"] and "message" in events[-1] and len(events[-1]["bits"]) == LENGTH
    assert events[-1]["tries"]["n"] == 3


def test_an_edit_stops_an_animation_and_an_old_run_never_draws_over_a_new_input(bits_slot):
    """The page's guarantee that it shows the current input: an edit that changes the input stops the old run's
    animation and answers only once that animation has returned (so its last frame is queued before the edit's
    output); a run made before such an edit never plays; an edit to the same value ends nothing."""
    import threading
    from types import SimpleNamespace

    from views.handlers import DISPLAYS, Displays

    on = run_handlers(VIEW)
    request = SimpleNamespace(session_hash="edit-test")
    assert DISPLAYS.end("edit-test", "bits", "1??0????") is True  # the page shows this input
    run = list(on.start("1??0????", "exact", "random", 5, 1.0, 0, 1, request))[-1].run
    assert len(list(on.animate(run, "instant", "1??0????", request))) >= 1  # its own input: it plays
    assert list(on.animate(run, "instant", "1???????", request)) == [RunOutputs.unchanged()]  # edited before
    assert DISPLAYS.end("edit-test", "bits", "1??0????") is False  # the same text written back: nothing ends
    frames = on.animate(run, "slow", "1??0????", request)
    next(frames)
    edit = threading.Thread(target=DISPLAYS.end, args=("edit-test", "bits", "1???????"))
    edit.start()  # the person types while it plays
    edit.join(0.3)
    assert edit.is_alive()  # the edit waits for the animation to return (up to 3 s) ...
    assert list(frames) == []  # ... which draws nothing more once resumed
    edit.join(1.0)
    assert not edit.is_alive()
    assert list(on.animate(run, "slow", "1??0????", request)) == [RunOutputs.unchanged()]  # made before the edit
    assert list(on.replay(run, "slow", request)) == [RunOutputs.unchanged()]
    assert list(on.start("1??0????", "exact", "random", 5, 1.0, 0, 1, request)) == [RunOutputs.unchanged()]
    table = Displays(capacity=2)
    for session in ("a", "b", "c"):
        table.end(session, "maze", "x")
    assert list(table.shown) == [("b", "maze"), ("c", "maze")]


def test_an_edit_stops_a_run_between_two_model_steps(bits_slot):
    import threading
    from types import SimpleNamespace

    from views.handlers import DISPLAYS

    on = run_handlers(VIEW)
    request = SimpleNamespace(session_hash="stop-test")
    DISPLAYS.end("stop-test", "bits", "????????")
    run = on.start("????????", "sequential", "random", 5, 1.0, 0, 1, request)
    next(run)  # the input drawn at once; the model steps come next
    edit = threading.Thread(target=DISPLAYS.end, args=("stop-test", "bits", "1???????"))
    edit.start()
    edit.join(0.3)
    assert edit.is_alive()  # waiting for the run to see the stop
    assert list(run) == []  # no kept run, nothing drawn
    edit.join(1.0)
    assert not edit.is_alive()


def test_an_edit_handler_clears_the_run_only_when_the_input_changed(bits_slot):
    from types import SimpleNamespace

    import gradio as gr

    from views.handlers import ending

    def edit(text: str) -> Edited:
        return Edited(text, f"<b>{text}</b>", "Ready", gr.update(interactive=True))

    handler = ending("bits", edit)
    assert list(inspect.signature(handler).parameters) == ["text", "request"]  # where Gradio puts the request
    request = SimpleNamespace(session_hash="clear-test")
    first, echo, other = (handler(text, request) for text in ("10101010", "10101010", "11111111"))
    assert first[:3] == ("10101010", "<b>10101010</b>", "Ready")
    assert len(first) == len(Edited._fields) + len(Forgotten._fields)
    forgotten = Forgotten(*other[len(Edited._fields) :])
    assert forgotten.run is None and forgotten.race is None and forgotten.density is None  # they went with it
    assert all(out == gr.skip() for out in echo)  # an echo of the same value changes nothing on the page


def test_an_edit_clears_a_tab_s_own_outputs_with_the_run(bits_slot):
    """The signal tab's spread chart is made from the input too: an edit clears it in the same event."""
    from types import SimpleNamespace

    import gradio as gr

    from views.handlers import ending

    def edit(text: str) -> Edited:
        return Edited(text, text, "Ready", gr.update(interactive=True))

    handler = ending("bits", edit, also=1)
    request = SimpleNamespace(session_hash="also-test")
    first, echo, other = (handler(text, request) for text in ("1010", "1010", "1111"))
    assert len(first) == len(Edited._fields) + len(Forgotten._fields) + 1
    assert other[-1] is None and echo[-1] == gr.skip()

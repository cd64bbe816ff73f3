"""Signal task: altitude bins, the text form, encoding, the shipped examples, a tiny model filling a profile end
to end, and the drawings. Flight generation needs OpenAP and is skipped without it."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
import numpy as np
import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.settings import Settings
from sigma.tasks import all_tasks
from sigma.tasks import signal as sg


@pytest.fixture(scope="module")
def tiny() -> SigmaGPT:
    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=sg.VOCAB_SIZE, block_size=sg.LENGTH, n_layer=1, n_head=2, n_embd=32)
    return SigmaGPT(config).eval()


def test_quantise_round_trip_within_half_a_bin():
    feet = np.random.default_rng(0).uniform(0, sg.CEILING_FT, 10_000)
    assert np.abs(sg.dequantise(sg.quantise(feet)) - feet).max() <= sg.BIN_FT / 2
    assert sg.quantise([0, 240, 260, 35_000, 60_000]).tolist() == [0, 0, 1, 70, sg.VOCAB_SIZE - 1]
    assert sg.dequantise(sg.quantise(np.arange(0, 44_001, 1000))).tolist() == list(range(0, 44_001, 1000))


def test_the_task_is_found_and_checks_its_model(tiny):
    assert all_tasks()["signal"] is sg.TASK
    assert sg.TASK.check_model(tiny) is None
    other = SigmaGPT(SigmaConfig(vocab_size=11, block_size=12, n_layer=1, n_head=2, n_embd=32))
    assert "vocab_size" in sg.TASK.check_model(other)


def test_parse_reads_every_form():
    p = sg.parse_profile("0, FL350, 35000 ft, ?, _, ?*3, [12000], ...")
    assert len(p.tokens) == sg.LENGTH
    assert p.tokens[:3] == (0, 70, 70) and p.known[:3] == (True, True, True)
    assert p.known[3:9] == (False,) * 6 and p.hidden[3:9] == (False,) * 5 + (True,)
    assert p.tokens[8] == 24 and not any(p.known[9:]) and not any(p.hidden[9:])
    spaces = sg.parse_profile(" ".join(["1000"] * 10 + ["..."]))
    assert spaces.known == (True,) * 10 + (False,) * (sg.LENGTH - 10)


def test_altitudes_off_the_grid_are_rounded_and_the_page_and_the_verdict_say_so():
    """1234 and 2222 ft become 1000 and 2000 (bins of 500 ft): the edit's line and the verdict both count them."""
    from views import signal_view

    typed = sg.parse_profile("0, 1234, 2222, 3000, [4100], ...")
    assert typed.tokens[:5] == (0, 2, 4, 6, 8) and typed.rounded == 3
    assert sg.parse_profile("0, FL350, 35000, [12000], ...").rounded == 0
    line = signal_view.edited("0, 1234, 2222, 3000, [4100], ...")[2]
    assert "3 written altitudes rounded to the nearest 500 ft" in line
    said = sg.TASK.verdict(typed, list(typed.tokens)).sentence
    assert said.endswith("3 written altitudes rounded to the nearest 500 ft, the model's grid.")


def test_spread_needs_something_to_draw():
    from views import signal_view

    assert signal_view.can_spread(sg.parse_profile("0, ..."))["interactive"] is True
    assert signal_view.can_spread(sg.parse_profile(", ".join(["10000"] * sg.LENGTH)))["interactive"] is False
    assert signal_view.can_spread(None)["interactive"] is False


@pytest.mark.parametrize("example", range(5))
def test_format_and_show_round_trip(example):
    profile = sg.parse_profile(sg.examples()[example])
    assert sg.parse_profile(sg.format_profile(profile)) == profile
    tokens, known = (t.tolist() for t in sg.TASK.encode(profile))
    partial = sg.parse_profile(sg.TASK.show(profile, tokens, known))
    assert partial.known == profile.known and not any(partial.hidden)
    finished = sg.parse_profile(sg.TASK.show(profile, tokens, [True] * sg.LENGTH))
    assert finished.tokens == profile.tokens and finished.hidden == tuple(not k for k in profile.known)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("0, 1000, 2000", "has 3 steps"),
        (", ".join(["0"] * (sg.LENGTH + 1)), "or more"),
        ("0, abc, ...", "cannot read step 1"),
        ("0, 60000, ...", "altitudes run from 0 ft"),
        ("0, -500, ...", "altitudes run from 0 ft"),
        ("0,, 100, ...", "two commas"),
        ("..., 0", "last entry"),
        ("?*999", "asks for 999"),
        ("x" * 9000, "limit"),
        (42, "must be text"),
    ],
)
def test_bad_input_says_what_is_wrong(text, words, tiny):
    with pytest.raises(ValueError, match=words):
        sg.TASK.parse(text, tiny)


def test_problem_and_encode(tiny):
    full = sg.TASK.parse(", ".join(["1000"] * sg.LENGTH), tiny)
    assert "Nothing is unknown" in sg.TASK.problem(full)
    profile = sg.TASK.parse(sg.examples()[0], tiny)
    assert sg.TASK.problem(profile) is None
    tokens, known = sg.TASK.encode(profile)
    assert tokens.shape == known.shape == (sg.LENGTH,)
    assert tokens.dtype == torch.long and known.dtype == torch.bool
    assert int(known.sum()) == sg.FORECAST_KNOWN
    assert sg.TASK.token_json(70) == 35_000 and sg.TASK.token_label(70) == "35000 ft"
    assert sg.TASK.position(profile, 5) == 5


def test_examples_parse_without_problems(tiny):
    examples = sg.TASK.examples(None)
    assert len(examples) == len(sg.EXAMPLE_LABELS)
    for text in examples:
        assert sg.TASK.problem(sg.TASK.parse(text, tiny)) is None
    assert len(sg.EXAMPLES_FILE.read_bytes()) < 8_000  # a few KB, shipped with the package


def test_verdict_scores_against_the_hidden_flight(tiny):
    profile = sg.TASK.parse(sg.examples()[0], tiny)
    perfect = sg.TASK.verdict(profile, list(profile.tokens))
    assert perfect.mae_ft == 0 and perfect.tone == "good" and "0 ft from the real flight" in perfect.sentence
    off = [t if k else min(t + 4, sg.VOCAB_SIZE - 1) for t, k in zip(profile.tokens, profile.known, strict=True)]
    assert sg.TASK.verdict(profile, off).tone == "fair"
    free = sg.TASK.parse("0, ?*63, FL370, ?*62, 0", tiny)
    said = sg.TASK.verdict(free, [74] * sg.LENGTH)
    assert said.mae_ft is None and said.sentence and said.as_json()["message"] == said.sentence


@pytest.mark.parametrize("sampler", ["exact-confident", "burst", "sequential"])
def test_a_tiny_model_fills_a_profile_end_to_end(tiny, sampler):
    profile = sg.TASK.parse(sg.examples()[3], tiny)  # five known points
    tokens, known = sg.TASK.encode(profile)
    out = sample(tiny, tokens[None], known[None], sampler=sampler, order="random", temperature=1.0, seed=1)
    filled = out.tokens[0]
    assert torch.equal(filled[known], tokens[known])
    assert int(filled.min()) >= 0 and int(filled.max()) < sg.VOCAB_SIZE
    verdict = sg.TASK.verdict(profile, filled.tolist())
    assert verdict.sentence and verdict.scored == sg.LENGTH - 5


def test_drawings(tiny):
    from views import signal_view as sv
    from views.runs import frames

    profile = sg.TASK.parse(sg.examples()[2], tiny)
    assert sv.draw(profile, None).count('class="pt known"') == sum(profile.known)
    tokens, known = sg.TASK.encode(profile)
    run = list(frames(tiny, tokens, known, Settings(sampler="exact", temperature=1.0)))
    middle, last = sv.draw(profile, run[1]), sv.draw(profile, run[-1])
    assert "<svg" in middle and "truth" in middle
    assert last.count('class="pt known"') + last.count('class="pt settled"') + last.count("accepted") >= sg.LENGTH
    assert "order-key" in sv.draw(profile, run[-1], order_map=True) and "hsl(" in sv.draw(profile, run[-1], True)
    assert "Nothing has settled yet" in sv.draw(profile, run[0], order_map=True)  # step 0: no ramp from step 1
    probs = torch.softmax(torch.randn(sg.LENGTH, sg.VOCAB_SIZE), dim=-1)
    assert sv.density_figure(profile, probs, list(profile.known), 5).data[0].type == "heatmap"
    fan = sv.spread(tiny, profile, Settings(sampler="exact-confident", temperature=0.0, seed=3), n=4)
    assert [t.name for t in fan.data if t.name] == ["90 % of draws", "50 % of draws", "median", "known", "real flight"]
    # the fan draws from the model's own distribution whatever the page's sampler and temperature
    _, own = sv.draws(tiny, profile, replace(sg.TASK.spread, seed=3), n=4)
    assert list(fan.data[4].y) == sv.quantiles(own)["q50"] and "temperature 1" in fan.layout.title.text
    _, html, line, ready = sv.edited(sg.examples()[0])
    assert ready and "Ready" in line and "<svg" in html


def test_generated_flights_are_whole_and_seeded():
    pytest.importorskip("openap")
    from train import signal_data as sd

    ac, alt = sd.flight(7)
    again = sd.flight(7)
    assert ac == again[0] and np.array_equal(alt, again[1]) and ac in sd.TYPES
    profile = sd.resample(alt)
    assert profile.shape == (sg.LENGTH,) and profile[0] < 500 and profile[-1] < 500
    assert 20_000 < profile.max() < sg.CEILING_FT


def test_prefix_rows_know_a_proper_prefix_and_the_rest_know_nothing():
    """`--prefix-share`: the known steps of a row are its first k (1 <= k < LENGTH) or none. The share of prefix
    rows among 4000 is within 0.05 of the asked 0.3 (its standard error is 0.007)."""
    from train.signal import prefix_known

    gen = torch.Generator().manual_seed(0)
    known = prefix_known(4000, 0.3, gen)
    k = known.sum(dim=1)
    assert torch.equal(known, torch.arange(sg.LENGTH)[None] < k[:, None])  # a prefix, no holes
    assert int(k.max()) < sg.LENGTH and abs(float((k > 0).float().mean()) - 0.3) < 0.05
    assert not prefix_known(64, 0.0, gen).any()


def test_chart_clicks_pin_and_unpin_and_a_drag_pins_a_stroke():
    from views import signal_view
    from views.signal_view import on_pin as signal_pin

    empty = sg.parse_profile("0, ...")
    one = signal_view.pinned(empty, [(100, 20_140.0)])
    assert one.known[100] and one.tokens[100] * sg.BIN_FT == 20_000 and sum(one.known) == 2
    assert signal_view.pinned(one, [(100, 19_000.0)]).known[100] is False  # a click near the pin unpins it
    assert signal_view.pinned(one, [(100, 30_000.0)]).tokens[100] * sg.BIN_FT == 30_000  # far from it: moves it
    stroke = signal_view.pinned(empty, [(s, 1000.0 * s) for s in range(10, 20)] + [(999, 1e9), (-5, -3.0)])
    assert sum(stroke.known) == 12 and stroke.tokens[sg.LENGTH - 1] == sg.VOCAB_SIZE - 1 and stroke.tokens[0] == 0
    assert signal_view.pinned(stroke, [(12, 12_000.0), (13, 13_000.0)]).known[12]  # a drag never unpins
    text = signal_pin("0, ...", gr.EventData(None, {"index": 100, "strokes": [[[100, 20_000]]]}))
    assert sg.parse_profile(text) == signal_view.pinned(empty, [(100, 20_000.0)])
    bad_events = ({}, {"strokes": "x"}, {"strokes": [[[1, "a"]]]}, {"strokes": [[[1, 2, 3]]]}, {"strokes": [[]]})
    for bad in (*bad_events, {"strokes": [[[0, 1]] * 999]}, {"points": [[1, 2]]}):
        assert signal_pin("0, ...", gr.EventData(None, bad)) == gr.skip()
    assert signal_pin("not a profile", gr.EventData(None, {"strokes": [[[1, 2]]]})) == gr.skip()


def test_twenty_quick_clicks_sent_together_make_twenty_pins():
    """pin.js sends the strokes of a burst of clicks in one event; each lands, none undoes another."""
    from views.signal_view import on_pin as signal_pin

    clicks = [[[step, 1000.0 * step]] for step in range(20, 120, 5)]
    text = signal_pin("0, ...", gr.EventData(None, {"index": 20, "strokes": clicks}))
    profile = sg.parse_profile(text)
    assert sum(profile.known) == 1 + 20 and all(profile.known[step] for step in range(20, 120, 5))


def test_a_spread_nobody_reads_stops_between_steps(tiny):
    """The fan chart's draws run step by step under the page's cancellation hook, so a spread whose reader left
    stops at its next step instead of running all its draws to the end."""
    from views import signal_view as sv
    from views.runs import STOPPED

    profile = sg.TASK.parse(sg.examples()[2], tiny)
    checks = []

    def gone() -> bool:
        checks.append(1)
        return True

    token = STOPPED.set(gone)
    try:
        with pytest.raises(TimeoutError, match="nobody is reading"):
            sv.draws(tiny, profile, replace(sg.TASK.spread, seed=3), n=4)
    finally:
        STOPPED.reset(token)
    assert checks == [1]  # stopped after its first step


def test_the_real_flight_line_never_runs_through_a_pin():
    """A pin dragged over hidden steps is the user's, not the flight's: the dashed line keeps to hidden steps."""
    from views import signal_view

    profile = sg.TASK.parse("0, 2000, 6000, [12000], [20000], [30000], [34000], ...", None)
    pinned = signal_view.pinned(profile, [(4, 1000.0)])
    real = [t for t in signal_view._known_trace(pinned) if t.name == "real flight"][0]
    assert real.y[3] == 12000 and real.y[4] is None and real.y[5] == 30000 and real.y[1] is None


def test_the_real_flight_line_never_runs_through_a_known_step():
    """A pin on a hidden step replaces its truth: the dashed real flight breaks there instead of dipping to the pin;
    a hidden step between two known ones still gets its own stroke."""
    import re

    from views import signal_view as sv

    flight = sg.examples()[0]  # the forecast: the first third known, the rest hidden with its truth
    base = sg.parse_profile(flight)
    pinned_at, lone_at = 66, 100
    tokens = list(base.tokens)
    tokens[pinned_at] = 10  # far from the real flight (5000 ft)
    known = [k or i in (pinned_at, lone_at - 1, lone_at + 1) for i, k in enumerate(base.known)]
    hidden = [h and not known[i] for i, h in enumerate(base.hidden)]
    svg = sv.chart_html(sg.Profile(tuple(tokens), tuple(known), tuple(hidden)))
    lines = re.findall(r'class="truth" points="([^"]+)"', svg)
    xs = [float(p.split(",")[0]) for line in lines for p in line.split()]
    assert all(abs(x - sv._x(pinned_at)) > 1 for x in xs)  # nothing of the line at the pin's step
    assert not any(abs(x - sv._x(s)) < 0.1 for x in xs for s in range(base.known.index(False)))  # nor the prefix
    lone = [line for line in lines if len(line.split()) == 2 and sv._x(lone_at - 1) < float(line.split(",")[0])]
    assert lone and abs(sum(float(p.split(",")[0]) for p in lone[0].split()) / 2 - sv._x(lone_at)) < 0.1

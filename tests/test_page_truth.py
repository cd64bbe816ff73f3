"""What the page says is true: written-back inputs, refusals with a sentence, counts in plain English."""

from __future__ import annotations

import pytest

from sigma.tasks import text as tx
from sigma.words import ordinal, plural
from views import text_view
from views.race import race


@pytest.mark.parametrize("text", [*tx.EXAMPLES, "To be, or [___] to be", "what [...] through [___] breaks?[...]"])
def test_blank_syntax_reads_back_as_the_same_passage(text):
    passage = tx.parse_passage(text, 256)
    again = tx.parse_passage(tx.blank_syntax(passage), 256)
    assert (again.ids, again.known, again.gaps) == (passage.ids, passage.known, passage.gaps)


def test_a_clicked_blank_and_a_canvas_are_written_back_into_the_passage_box():
    passage = tx.parse_passage("To be, or not to be", 256)
    clicked = text_view.toggle(passage, 3)  # " or" becomes a blank with its original word
    assert tx.blank_syntax(clicked) == "To be, {or} not to be"
    again = tx.parse_passage(tx.blank_syntax(clicked), 256)
    assert again.known == clicked.known and again.ids == clicked.ids
    canvas = text_view.canvas(24, "0: KING:\n10: crown", 256)
    again = tx.parse_passage(tx.blank_syntax(canvas), 256)
    assert again.known == canvas.known and again.ids == canvas.ids


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("To be {}", "empty {}"),
        ("or {not to be", "no closing }"),
        ("or not} to be", "closes nothing"),
        ("or {not [...] to} be", r"holds a \[___\] or \[...\]"),  # a blank inside a blank
        ("To be, or [not to be: that is {the question\nWhether [... nobler ] in the } mind", "holds a"),
        ("or [___ to be", "is not a blank"),  # a blank left open: its "[" would read as a fill's mark
        ("or [... not] to be", "is not a blank"),
    ],
)
def test_blanks_left_open_or_nested_are_refused_with_a_sentence(text, says):
    with pytest.raises(ValueError, match=says):
        tx.parse_passage(text, 256)


def test_brackets_that_begin_no_blank_are_text():
    passage = tx.parse_passage("KING [Aside] To be, or [___] to be", 256)
    assert passage.known.count(False) == 3 and "[Aside]" in tx.decode(passage.ids)


def test_the_page_s_sentences_start_with_a_capital_and_count_right():
    from views import status

    assert ">An empty {} blanks nothing" in status.message("an empty {} blanks nothing", "bad")
    one = text_view.notes(tx.parse_passage("To be, or [...] to be", 256, max_length=1))
    assert "1 token" in one and "1 to 1" not in one


def test_a_canvas_too_long_says_canvas():
    with pytest.raises(ValueError, match="The canvas is 5000 tokens long"):
        text_view.canvas(5000, "", 128)


def test_counts_read_as_english():
    assert [plural(n, "token") for n in (0, 1, 2)] == ["0 tokens", "1 token", "2 tokens"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 53, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "53rd", "101st", "111th",
    ]  # fmt: skip


def test_a_race_with_no_sampler_ticked_is_refused(small_model):
    with pytest.raises(ValueError, match="No sampler is chosen"):
        race(None, small_model, "", None, [])


def test_a_finished_race_lane_is_not_ticked_as_if_valid():
    """On this page ✓ means a valid answer (the tries strip): a lane that finished says "finished" instead, above
    its own verdict, valid or not."""
    import torch

    from sigma import SigmaConfig, SigmaGPT
    from sigma.tasks import maze as mz
    from views import maze_view
    from views.race import clock, race_html

    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    model = SigmaGPT(config).eval()
    value, lanes = race(mz.TASK, model, mz.TASK.examples(None)[0], mz.TASK.defaults, ["sequential", "exact"])
    shown = race_html(maze_view.VIEW, value, lanes, clock(lanes)[-1])
    assert "✓" not in shown and shown.count("· finished") == 2 and "(Log-likelihood" in shown


def test_an_exported_maze_run_names_its_tokens_and_keeps_figures_as_json(tmp_path):
    import json

    from sigma import SigmaConfig, SigmaGPT
    from sigma.settings import Settings
    from sigma.tasks import maze as mz
    from views import export, maze_view
    from views.runs import start

    cfg = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    model = SigmaGPT(cfg).eval()
    value, frames = start(mz.TASK, model, mz.examples()[0], Settings(sampler="exact", temperature=1.0, tries=3))
    _, json_path = export.write(maze_view.VIEW, value, list(frames), tmp_path)
    events = json.loads(json_path.read_text())["events"]
    drafted = [token for event in events for _, token in event["drafted"]]
    assert drafted and set(drafted) <= {"on", "off"}
    last = events[-1]
    assert isinstance(last["figures"]["accepted_per_step"], dict)
    assert last["tries"]["n"] == 3 and len(last["tries"]["valid"]) == 3


def test_the_length_verdict_shows_the_number_it_ranks_by():
    from sigma.tasks.text.candidate import Candidate

    tried = tuple(
        Candidate((n,), (1,) * n, f"a[{'x' * n}]b", nats=nats, characters=chars)
        for n, nats, chars in ((2, 30.0, 40), (1, 28.0, 30), (3, 40.0, 60))
    )
    tried = tuple(sorted(tried, key=lambda c: c.score()))
    sentence = tx.Filled("text", "marked", 2, tried).sentence
    for c in tried:
        assert f"{c.score():.2f}" in sentence  # the key every candidate is ranked by, shown for each
    assert "lower is better" in sentence

"""The app through gradio_client (streamed events, final results, clear errors) and its views on their own.

The server runs tiny random-weight models (see the `studio_url` fixture): these tests check the plumbing
and the messages, not the quality of a trained model."""

import random
from types import SimpleNamespace

import pytest
import torch
from gradio_client import Client
from gradio_client.exceptions import AppError

from sigma import SigmaConfig, SigmaGPT
from sigma.settings import Settings
from sigma.tasks import maze as mz
from sigma.tasks import signal as sg
from sigma.tasks import text as tx
from views import maze_view, text_view
from views.models import ModelSlot
from views.runs import frames

MAZE = mz.render(mz.generate(9, 9, random.Random(0)))


@pytest.fixture(scope="module")
def client(studio_url) -> Client:
    return Client(studio_url, verbose=False)


def stream(client: Client, api_name: str, *args) -> list[dict]:
    """Every streamed event of one call; an error raised by the endpoint surfaces as AppError."""
    job = client.submit(*args, api_name=api_name)
    events = list(job)
    job.result()
    return events


def test_solve_maze_streams_steps_and_ends_with_a_judged_solution(client):
    events = stream(client, "/solve_maze", MAZE, "exact", "random", 5, 0.0, 0)
    assert len(events) >= 2 and events[0]["step"] == 0 and not events[0]["finished"]
    assert [e["step"] for e in events] == list(range(len(events)))
    last = events[-1]
    assert last["finished"] and last["tokens_done"] == last["to_fill"] == 81
    assert last["model_calls"] <= 81
    solved = last["solution"].splitlines()
    assert [row.replace("*", ".") for row in solved] == MAZE.splitlines()
    assert isinstance(last["valid"], bool) and last["message"]
    assert set(last["figures"]) == {"accepted_per_step", "done_vs_calls"}


@pytest.mark.parametrize("sampler", ["sequential", "burst"])
def test_every_sampler_streams_through_the_api(client, sampler):
    events = stream(client, "/fill_text", "To be, or {not to be}: that is [__]", sampler, "l2r", 3, 1.0, 1)
    last = events[-1]
    assert last["finished"] and last["tokens_done"] == last["to_fill"]
    if sampler == "sequential":
        assert len(events) == last["to_fill"] + 1
    assert last["text"].startswith("To be, or") and "[" in last["marked"]


SIGNAL = "0, 2000, 6000, 12000, ?*124"


@pytest.mark.parametrize("api_name", ["/fill_signal"])
def test_fill_signal_streams_steps_and_ends_with_the_profile(client, api_name):
    events = stream(client, api_name, SIGNAL, "exact", "random", 5, 1.0, 0)
    last = events[-1]
    assert last["finished"] and len(events) >= 2 and "message" in last
    assert last["to_fill"] == 124 and last["values"].startswith("0, 2000, 6000, 12000, [")


def test_spread_signal_gives_ordered_quantiles_that_keep_the_pins(client):
    out = client.predict(SIGNAL, 8, "exact", "random", 5, 1.0, 0, api_name="/spread_signal")
    q = out["quantiles_ft"]
    assert set(q) == {"q05", "q25", "q50", "q75", "q95"} and all(len(v) == sg.LENGTH for v in q.values())
    assert all(a <= b <= c <= d <= e for a, b, c, d, e in zip(*q.values(), strict=True))
    assert [q["q50"][i] for i in range(4)] == [0, 2000, 6000, 12000] and out["known"][:5] == [True] * 4 + [False]
    with pytest.raises(AppError, match="from 2 to 64"):
        client.predict(SIGNAL, 500, api_name="/spread_signal")


def test_fill_text_handles_emoji_and_cjk(client):
    last = stream(client, "/fill_text", "rose 🌹 and 薔薇 [___]", "exact", "random", 5, 1.0, 0)[-1]
    assert last["text"].startswith("rose 🌹 and 薔薇")


def test_density_gives_top_k_of_every_unknown_position(client):
    text = client.predict("text", "To be [___] to be", 4, api_name="/density")
    assert len(text["positions"]) == 3
    for entry in text["positions"]:
        probs = [p for _, p in entry["top"]]
        assert len(probs) == 4 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    maze = client.predict("maze", MAZE, 2, api_name="/density")
    assert len(maze["positions"]) == 81 and all(len(e["top"]) == 2 for e in maze["positions"])


def test_compare_races_samplers_on_one_input(client):
    out = client.predict("maze", MAZE, ["sequential", "exact"], "random", 0.0, 3, 5, api_name="/compare")
    lanes = {lane["sampler"]: lane for lane in out["lanes"]}
    assert set(lanes) == {"sequential", "exact"} and lanes["sequential"]["model_calls"] == 81
    for lane in lanes.values():
        assert lane["tokens"] == 81 and lane["message"] and lane["log_likelihood"] <= 0
        assert lane["tokens_per_call"] == round(81 / lane["model_calls"], 2)


WALLED = mz.parse(MAZE)
for _r, _c in WALLED.neighbours(WALLED.goal):
    WALLED.walls[_r][_c] = True


@pytest.mark.parametrize(
    ("api_name", "args", "says"),
    [
        ("/solve_maze", (mz.render(WALLED),), "cannot be solved"),
        ("/solve_maze", (MAZE.replace("G", "."),), "exactly one goal"),
        ("/solve_maze", ("S.\n.G",), "expects 9x9"),
        ("/solve_maze", (MAZE, "warp"), "unknown sampler"),
        ("/solve_maze", (MAZE, "exact", "random", "many"), "num_orders"),
        ("/solve_maze", (MAZE.replace(".", "@", 1),), "unknown character"),
        ("/fill_text", ("",), "empty"),
        ("/fill_text", ("word " * 300,), "at most 128"),
        ("/fill_text", ("bell \x07 [__]",), "control character"),
        ("/fill_text", ("nothing blank here",), "Nothing is blank"),
        ("/fill_text", ("[__]", "exact", "random", 5, -1.0), "temperature"),
        ("/solve_maze", (MAZE, "exact", "random", 5, 0.0, 10**400), "seed must be a whole number"),
        ("/solve_maze", (MAZE, "exact", "random", 5, 0.0, 1.5), "seed must be a whole number"),
        ("/solve_maze", (MAZE, "exact", "random", 5, 1e-38, -3), "seed must lie between 0"),
        ("/solve_maze", (MAZE, "x" * 50_000 + "y"), "unknown sampler 'xxx"),
        ("/density", ("poem", "x"), "unknown task"),
        ("/density", ("text", "no blanks", 3), "Nothing is unknown"),
        ("/solve_maze", ("hello",), "is 1x5 but"),
        ("/compare", ("maze", MAZE, []), "No sampler is chosen"),
    ],
)
def test_bad_input_is_a_clear_error_and_the_server_keeps_serving(client, api_name, args, says, capfd):
    with pytest.raises(AppError, match=says):
        stream(client, api_name, *args)
    assert "Traceback" not in capfd.readouterr().err  # a person's mistake is one log line, not a traceback
    assert client.predict("text", "a [_]", 1, api_name="/density")["positions"]


def test_concurrent_streams_all_finish(studio_url):
    clients = [Client(studio_url, verbose=False) for _ in range(4)]
    jobs = [c.submit(MAZE, "burst", "random", 5, 1.0, i, api_name="/solve_maze") for i, c in enumerate(clients)]
    assert all(job.result()["finished"] for job in jobs)


def test_everything_blanked_is_filled(client):
    last = stream(client, "/fill_text", "[________]", "exact-confident", "fractal", 5, 1.0, 0)[-1]
    assert last["tokens_done"] == 8


def test_missing_and_corrupt_checkpoints_say_how_to_train(tmp_path):
    missing = ModelSlot("maze", "SIGMA_TEST_UNSET_VAR", str(tmp_path / "nowhere"))
    assert missing.get() is None
    assert "does not exist" in missing.missing_message() and "python -m train maze" in missing.missing_message()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text('{"vocab_size": 6}')
    (tmp_path / "bad" / "model.safetensors").write_bytes(b"not a tensor file")
    corrupt = ModelSlot("text", "SIGMA_TEST_UNSET_VAR", str(tmp_path / "bad"))
    assert corrupt.get() is None and "could not load" in corrupt.missing_message()
    SigmaGPT(SigmaConfig(vocab_size=6, block_size=8, n_layer=1, n_head=1, n_embd=8)).save_pretrained(tmp_path / "plain")
    wrong = ModelSlot("maze", "SIGMA_TEST_UNSET_VAR", str(tmp_path / "plain"))
    assert wrong.get() is None and "not a maze model" in wrong.missing_message()


# ---------------------------------------------------------------- views, without the server


def test_clicks_edit_the_maze_and_refuse_impossible_edits():
    rows = MAZE.splitlines()
    wall = next(r * 9 + c for r in range(9) for c in range(9) if rows[r][c] == "#")
    free = next(r * 9 + c for r in range(9) for c in range(9) if rows[r][c] == ".")
    new, note = maze_view.edit(MAZE, wall, "pin: path here")
    assert new == MAZE and "wall" in note
    moved, _ = maze_view.edit(MAZE, free, "start")
    assert moved.count("S") == 1 and moved.splitlines()[free // 9][free % 9] == "S"
    goal = MAZE.replace("\n", "").index("G")
    same, note = maze_view.edit(MAZE, goal, "start")
    assert same == MAZE and "cannot share" in note
    cleared, _ = maze_view.edit(MAZE, wall, "wall")
    assert cleared.replace("\n", "")[wall] == "."


def test_a_maze_pasted_from_another_generator_is_drawn_and_edited_as_it_reads():
    ringed = "\n".join(["#" * 11, *("#" + row.replace(".", " ") + "#" for row in MAZE.splitlines()), "#" * 11])
    pasted = ringed.replace("G", "E")
    assert maze_view.grid(pasted) == [list(row) for row in MAZE.splitlines()]
    assert maze_view.board_html(pasted) == maze_view.board_html(MAZE)
    free = next(r * 9 + c for r, row in enumerate(MAZE.splitlines()) for c, ch in enumerate(row) if ch == ".")
    assert maze_view.edit(pasted, free, "wall") == maze_view.edit(MAZE, free, "wall")  # written back as the studio's
    broken = pasted.replace("S", " ")  # no start: drawn as typed, with the message of the parse
    assert len(maze_view.grid(broken)) == 11
    _, line, ready = maze_view.readiness(broken, (9, 9))
    assert not ready and "exactly one start S" in line


def test_examples_include_a_pin_and_an_unsolvable_maze():
    examples = mz.examples()
    assert any("+" in e for e in examples)
    reasons = [mz.unsolvable_reason(mz.parse(e)) for e in examples]
    assert reasons[:-1] == [None] * (len(examples) - 1) and reasons[-1]


def test_blank_syntax_toggle_and_canvas():
    p = tx.parse_passage("To be, or {not} to be: [___]", 128)
    assert p.known.count(False) == 1 + 3
    q = text_view.toggle(p, 0)
    assert not q.known[0] and p.known[0]
    c = text_view.canvas(20, "0: KING:\n15: crown", 128)
    assert len(c.ids) == 20 and c.known[0] and not c.known[5] and c.known[15]
    with pytest.raises(ValueError, match="runs past"):
        text_view.canvas(5, "4: many words here", 128)


def test_frames_rank_every_sampled_position_once():
    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))).eval()
    tokens, known = mz.encode(mz.parse(MAZE))
    run = list(frames(model, tokens, known, Settings("exact", "random", 5, 1.0, 3)))
    last = run[-1]
    ranks = [r for r in last.rank if r is not None]
    assert sorted(ranks) == list(range(1, 82)) and last.finished
    assert sum(f.settled_now for f in run) == 81
    assert "rejected" in "".join(maze_view.board_html(MAZE, f) for f in run) or all(f.rejected is None for f in run)


def test_windows_line_ends_are_text_and_a_tiny_temperature_is_greedy(client):
    last = stream(client, "/fill_text", "KING:\r\nTo be, or [__]\r\n", "exact", "random", 5, 1e-38, 0)[-1]
    assert last["finished"] and last["text"].startswith("KING:\nTo be, or")


def test_an_error_never_echoes_a_huge_input(client):
    with pytest.raises(AppError) as err:
        stream(client, "/solve_maze", MAZE, "x" * 50_000)
    assert len(str(err.value)) < 400


def test_the_result_keeps_emoji_and_cjk_whole():
    passage = tx.parse_passage("rose 🌹 and 薔薇 [___]", 128)
    tokens = list(passage.ids[:-3]) + tx.encode(" fair")[:1] * 3
    assert tx.TASK.show(passage, tokens, [True] * len(tokens)).startswith("rose 🌹 and 薔薇[")


def test_a_typed_blank_cannot_be_turned_into_a_token():
    passage = tx.parse_passage("To be [_] to be", 128)
    blank = passage.known.index(False)
    assert text_view.toggle(passage, blank) == passage  # no "‹00›" token appears
    kept = text_view.toggle(passage, 0)
    assert not kept.known[0] and text_view.toggle(kept, 0) == passage  # a word blanked by a click comes back


def test_a_click_on_a_line_break_keeps_the_passage_and_says_why():
    """Blanking "\n" alone would be written back as "{\n}", which reads as an empty blank: the click is refused
    with a sentence, and the passage (and its board) stay as they were."""
    passage = tx.parse_passage("HAMLET:\nTo be, or not to be", 128)
    newline = next(i for i, t in enumerate(passage.ids) if tx.piece(t) == "\n")
    assert text_view.toggle(passage, newline) == passage
    clicked = text_view.on_click(passage, SimpleNamespace(index=newline))
    assert "cannot be blanked on its own" in clicked.line and clicked.source == tx.blank_syntax(passage)
    assert tx.parse_passage(clicked.source, 128) == passage


def test_canvas_pins_keep_their_words_and_never_overlap():
    with pytest.raises(ValueError, match="has no words"):
        text_view.canvas(20, "5: ", 128)
    c = text_view.canvas(20, "0: KING:\r\n10: crown", 128)
    assert tx.decode(list(c.ids[: c.known.index(False)])) == "KING:"
    with pytest.raises(ValueError, match="overlaps an earlier pin"):
        text_view.canvas(20, "0: KING: of all\n1: crown", 128)
    with pytest.raises(ValueError, match=r"\(1 token from position 2\)"):  # one token, not "1 tokens"
        text_view.canvas(20, "2: be\n2: or", 128)


def test_a_finished_maze_is_drawn_clean_and_the_heatmap_marks_s_and_g():
    import re

    from views import charts

    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))).eval()
    maze = mz.parse(MAZE)
    tokens, known = mz.encode(maze)
    last = list(frames(model, tokens, known, Settings("exact", "random", 5, 1.0, 3)))[-1]
    states = {c for cls in re.findall(r'class="cell ([^"]*)"', maze_view.board_html(maze, last)) for c in cls.split()}
    assert not states & {"accepted", "drafted", "rejected", "replaced", "on"}  # one colour for the path, no step states
    fig = charts.grid_heatmap([[0.5] * 9 for _ in range(9)], start=maze.start, goal=maze.goal)
    assert {a.text for a in fig.layout.annotations} == {"<b>S</b>", "<b>G</b>"}
    assert list(fig.data[0].x) == list(range(1, 10)) and tuple(fig.layout.xaxis.range) == (0.5, 9.5)


def test_only_tasks_that_check_an_answer_take_tries(client):
    """tries changed nothing for a signal (it cannot tell a right profile from a wrong one): not offered there."""
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    takes = {name: [p["parameter_name"] for p in named[name]["parameters"]] for name in named}
    assert takes["/solve_maze"][-1] == "tries" and takes["/fill_text"][-1] == "tries"
    assert "tries" not in takes["/fill_signal"] and takes["/fill_signal"][-1] == "seed"


def test_the_removed_alias_is_gone(client):
    """/forecast_signal was /fill_signal's first name; it went in this release (README, Changelog)."""
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/fill_signal" in named and "/forecast_signal" not in named


def test_too_many_unknown_length_combinations_are_refused_as_the_text_is_typed():
    """Before Fill, with Fill disabled: the sentence the run would refuse with, for a text model that ranks lengths
    (no model is loaded here: the tokenizer's vocabulary, without the pad)."""
    edited = text_view.on_edit("A [...] b [...] c [...] d", 8)
    assert "512 combinations" in edited.line and edited.action["interactive"] is False
    assert text_view.on_edit("A [...] b [...] c [...] d", 4).action["interactive"] is True  # 64: allowed

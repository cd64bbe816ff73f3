"""Every task through the protocol alone (`sigma.task.Task`), as the app, the API and the load tool use it:
its examples parse, encode, run to the end with a tiny random-weight model, and come back judged."""

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.settings import Settings
from sigma.tasks import all_tasks, get
from sigma.tasks import signal as sg
from sigma.tasks import text as tx
from views.runs import frames

TINY = {
    "maze": SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9)),
    "text": SigmaConfig(vocab_size=tx.VOCAB_SIZE, block_size=128, n_layer=1, n_head=2, n_embd=32),
    "signal": SigmaConfig(vocab_size=sg.VOCAB_SIZE, block_size=sg.LENGTH, n_layer=1, n_head=2, n_embd=32),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_a_task_runs_end_to_end_through_the_protocol(name):
    task = get(name)
    torch.manual_seed(0)
    model = SigmaGPT(TINY[name]).eval()
    assert task.check_model(model) is None
    ready = [task.parse(e, model) for e in task.examples(model)]
    value = next(v for v in ready if task.problem(v) is None)
    assert task.parse(value, model) == value  # a parsed value passes through
    tokens, known = task.encode(value)
    assert tokens.shape == known.shape and known.dtype == torch.bool and not bool(known.all())
    run = list(frames(model, tokens, known, Settings(**task.defaults.engine_kwargs())))
    last = run[-1]
    assert last.finished and all(last.done)
    assert [t for t, k in zip(last.tokens, known.tolist(), strict=True) if k] == tokens[known].tolist()
    verdict = task.verdict(value, last.tokens)
    assert verdict.sentence and verdict.tone in ("good", "fair", "bad")
    assert verdict.as_json()["message"] == verdict.sentence
    assert isinstance(task.show(value, last.tokens, last.done), str)
    unknown = known.tolist().index(False)
    assert task.position(value, unknown) is not None and task.token_label(last.tokens[unknown])


def test_tasks_are_found_and_unknown_ones_named():
    assert set(TINY) == set(all_tasks())  # every task is tested through the protocol
    with pytest.raises(ValueError, match="unknown task 'poem'"):
        get("poem")


def test_a_model_of_the_wrong_task_is_refused():
    maze, text = get("maze"), get("text")
    assert "not a maze model" in maze.check_model(SigmaGPT(TINY["text"]))
    assert "vocab_size" in text.check_model(SigmaGPT(TINY["maze"]))

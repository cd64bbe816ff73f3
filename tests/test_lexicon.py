"""Real words: the shipped word list, the check of a fill, and the text tab's examples at its defaults."""

from __future__ import annotations

import pytest

from sigma import SigmaGPT
from sigma.tasks import text as tx
from sigma.tasks.text import lexicon
from views.runs import start


def test_a_fill_is_judged_by_the_whole_words_it_touches():
    ids = tx.encode("The barge she sat in, like a burnished throne")
    known = [True] * len(ids)
    assert lexicon.only_real_words(ids, known)  # nothing filled: nothing to judge
    glued = tx.encode("The barge she sat in, like a burnish") + tx.encode("edthrone")
    blanked = [True] * (len(glued) - 1) + [False]
    text, spans = lexicon.fill_spans(glued, blanked)
    assert lexicon.filled_words(text, spans) == ["burnishedthrone"]  # glued onto the known word: one word
    assert not lexicon.only_real_words(glued, blanked)
    head, fill = tx.encode("The barge she sat in, like a"), tx.encode(" golden throne")
    assert lexicon.only_real_words(head + fill, [True] * len(head) + [False] * len(fill))


def test_the_verdict_names_words_that_are_not_in_the_plays():
    passage = tx.parse_passage("JULIET:\nO Romeo, Romeo, wherefore art thou {Romeo}?", 128)
    ids, known = list(passage.ids), list(passage.known)
    blank = known.index(False)
    fake = tx.encode(" Zorblax")
    filled, marks = ids[:blank] + fake + ids[blank + 1 :], known[:blank] + [False] * len(fake) + known[blank + 1 :]
    invented = tx.TASK.verdict(tx.Passage(filled, marks), filled)
    assert invented.tone == "fair" and "“Zorblax”" in invented.sentence
    assert invented.as_json()["unknown_words"] == ["Zorblax"]
    real = tx.TASK.verdict(passage, ids)
    assert real.tone == "good" and "Not words" not in real.sentence


def test_the_shipped_word_list_is_the_training_plays_words():
    from train.words import training_words

    assert sorted(lexicon.known_words()) == training_words()  # rebuild with `python -m train words`
    _, held_out = tx.split_plays()
    assert "romeo" in lexicon.known_words() and held_out  # whole plays held out: their own names may be missing


@pytest.fixture(scope="module")
def shipped() -> SigmaGPT:
    return SigmaGPT.from_pretrained("checkpoints/text").eval()


def test_every_text_example_fills_with_real_words_at_the_tab_defaults(shipped):
    """Through views.runs.start, as the page's Fill runs it: the shown try uses only real words."""
    for example in tx.TASK.examples(shipped):
        value, run = start(tx.TASK, shipped, example, tx.TASK.defaults)
        last = list(run)[-1]
        assert last.tries is not None and last.tries.valid[last.tries.chosen], tx.TASK.show(
            value, last.tokens, last.done
        )
        assert tx.TASK.accept(value, last.tokens)

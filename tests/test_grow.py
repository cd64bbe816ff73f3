"""Deepening a trained model: the new layers start as the identity and then learn."""

from __future__ import annotations

import argparse

import torch

from sigma import SigmaGPT
from train.grow import add_layers
from train.loop import starting_model


def test_new_layers_leave_what_the_model_computes_unchanged(small_model):
    deeper = add_layers(small_model, 2)
    assert deeper.config.n_layer == small_model.config.n_layer + 2 and add_layers(small_model, 0) is small_model
    assert torch.equal(deeper.blocks[1].attn.qkv.weight, small_model.blocks[1].attn.qkv.weight)
    tokens = torch.randint(0, 11, (3, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for order in ("l2r", "random"):
            gen = [torch.Generator().manual_seed(1) for _ in range(2)]
            torch.testing.assert_close(
                deeper.log_prob(tokens, order=order, generator=gen[0]),
                small_model.log_prob(tokens, order=order, generator=gen[1]),
            )


def test_new_layers_learn(small_model):
    deeper = add_layers(small_model, 1).train()
    tokens = torch.randint(0, 11, (4, 12), generator=torch.Generator().manual_seed(0))
    (-deeper.log_prob(tokens, order="random").mean()).backward()
    top = deeper.blocks[-1]
    assert top.attn.proj.weight.grad.abs().sum() > 0 and top.mlp.proj.weight.grad.abs().sum() > 0


def test_a_run_started_with_add_layers_is_deeper(tmp_path, small_model):
    small_model.save_pretrained(tmp_path / "base")
    args = argparse.Namespace(out=str(tmp_path / "run"), resume=False, init=str(tmp_path / "base"))
    deeper = starting_model(argparse.Namespace(**vars(args), tie_embeddings=True, add_layers=3), lambda: small_model)
    assert deeper.config.n_layer == small_model.config.n_layer + 3 and deeper.config.tie_embeddings
    deeper.save_pretrained(tmp_path / "deeper")
    assert SigmaGPT.from_pretrained(tmp_path / "deeper").config.n_layer == small_model.config.n_layer + 3

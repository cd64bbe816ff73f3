"""Deepen a trained model: new layers on top that start as the identity, so a run begins from what it knows.

A pre-LN block adds its attention's and its MLP's outputs to the residual stream through one projection each;
with both projections zero the block passes its input through unchanged, and the model computes exactly what it
did. Training then moves the projections off zero (their gradients are not zero: they read the block's
activations) and the new layers learn what the old ones left.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sigma import SigmaGPT


@torch.no_grad()
def add_layers(model: SigmaGPT, n: int) -> SigmaGPT:
    """`model` with `n` more layers on top, each the identity until trained; every other weight kept."""
    if n <= 0:
        return model
    old = model.config.n_layer
    deeper = SigmaGPT(replace(model.config, n_layer=old + n))
    missing, unexpected = deeper.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(int(key.split(".")[1]) >= old for key in missing), (missing, unexpected)
    for block in deeper.blocks[old:]:
        for proj in (block.attn.proj, block.mlp.proj):
            proj.weight.zero_()
            if proj.bias is not None:
                proj.bias.zero_()
    return deeper

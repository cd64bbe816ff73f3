"""Tie a trained model's input and output embeddings, so its vocabulary costs one matrix instead of two.

A tied output layer scores token t with the same row that embeds t as an input. A model trained untied has two
different matrices there, and neither serves both roles (on the text model, the best least-squares linear map from
one to the other misses by half of the target's norm or more), so the shared row starts as their mean and training
adapts the rest.
Every other weight is kept.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sigma import SigmaGPT


@torch.no_grad()
def tie_embeddings(model: SigmaGPT) -> SigmaGPT:
    """`model` with tied embeddings; each shared row is the mean of the token's input and output rows."""
    if model.config.tie_embeddings:
        return model
    vocab = model.config.vocab_size
    tied = SigmaGPT(replace(model.config, tie_embeddings=True))
    tied.load_state_dict({k: v for k, v in model.state_dict().items() if k != "head.weight"})
    tied.tok_emb.weight[:vocab] = (model.tok_emb.weight[:vocab] + model.head.weight) / 2
    return tied

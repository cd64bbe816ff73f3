"""Move a trained text model to a larger BPE of the same training run, so a CPU run starts from what it knows.

The vocabularies are nested: `train_bpe` is deterministic, so the 8192-token BPE's first 1024 merges are the
1024-token BPE's. Every larger token is the merge of two smaller ones; unrolled, it is a run of tokens the
old model knows. A new token starts as the mean of those tokens' embeddings (input and output), every other
weight is kept, and training then teaches the model what a whole word means.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sigma import SigmaGPT
from sigma.tasks.text import get_encoding


def old_pieces(new_vocab: int, old_vocab: int) -> list[list[int]]:
    """For every token of the larger BPE, the tokens of the smaller one that spell it."""
    small, large = get_encoding(old_vocab), get_encoding(new_vocab)
    if any(small.decode_single_token_bytes(t) != large.decode_single_token_bytes(t) for t in range(old_vocab)):
        raise ValueError(f"the {old_vocab}-token BPE is not a prefix of the {new_vocab}-token one")
    rank = {large.decode_single_token_bytes(t): t for t in range(new_vocab)}
    spelled: list[list[int]] = [[t] for t in range(old_vocab)]
    for t in range(old_vocab, new_vocab):
        word = large.decode_single_token_bytes(t)
        # the merge that made t joined two tokens of lower rank; any such split unrolls to old tokens
        cut = next(i for i in range(1, len(word)) if rank.get(word[:i], t) < t and rank.get(word[i:], t) < t)
        spelled.append(spelled[rank[word[:cut]]] + spelled[rank[word[cut:]]])
    return spelled


@torch.no_grad()
def respelled(model: SigmaGPT, spellings: list[list[int]]) -> SigmaGPT:
    """`model` with a vocabulary of len(spellings) tokens: new token t starts as the mean of the old tokens
    `spellings[t]` (input and, untied, output rows), the BOS row moves to the end, every other weight is kept."""
    old, vocab_size = model.config.vocab_size, len(spellings)
    new = SigmaGPT(replace(model.config, vocab_size=vocab_size))
    state = {k: v for k, v in model.state_dict().items() if k not in ("tok_emb.weight", "head.weight")}
    new.load_state_dict(state, strict=False)
    for t, spelling in enumerate(spellings):
        new.tok_emb.weight[t] = model.tok_emb.weight[spelling].mean(dim=0)
        if new.head is not None:  # untied: the output rows too
            new.head.weight[t] = model.head.weight[spelling].mean(dim=0)
    new.tok_emb.weight[vocab_size] = model.tok_emb.weight[old]  # the BOS row
    return new


def transplant(model: SigmaGPT, vocab_size: int) -> SigmaGPT:
    """`model` with a `vocab_size`-token BPE (a superset of its own): same transformer, new embeddings."""
    old = model.config.vocab_size
    if vocab_size < old:
        raise ValueError(f"can only grow the vocabulary ({old} -> {vocab_size})")
    return respelled(model, old_pieces(vocab_size, old))

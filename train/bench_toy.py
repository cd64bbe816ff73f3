"""Model calls per token of every sampler on the two toy tasks (`train.toy`), after training a model on each."""

from __future__ import annotations

import argparse
import json

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.settings import SAMPLERS
from train.loop import TrainConfig, train
from train.toy import (
    PERM_T,
    PRODUCT_CLASSES,
    PRODUCT_T,
    PRODUCT_V,
    is_permutation,
    permutation_batch,
    product_batch,
    product_table,
)


def fit(vocab: int, T: int, batch_fn, steps: int) -> SigmaGPT:
    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=vocab, block_size=T, n_layer=3, n_head=4, n_embd=64))
    train(
        model,
        batch_fn,
        TrainConfig(steps=steps, batch_size=128, lr=3e-3, warmup=30, order="random", device="cpu"),
        progress=False,
    )
    return model.eval()


def measure(model: SigmaGPT, tokens, known, quality) -> dict:
    figures = {}
    for sampler in SAMPLERS:
        out = sample(model, tokens, known, sampler=sampler, order="random", temperature=1.0, seed=0)
        generated = int((~known).sum())
        figures[sampler] = {
            "calls_per_token": round(int(out.model_calls.sum()) / generated, 3),
            "steps_per_sequence": round(float(out.steps.float().mean()), 2),
            **quality(out.tokens),
        }
    return figures


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=400, help="training steps (twice as many for the permutation task)")
    p.add_argument("--n", type=int, default=256, help="sequences sampled per sampler")


def run(args: argparse.Namespace) -> dict:
    """Train a small model on each toy task, then sample n sequences with every sampler."""
    steps, n = args.steps, args.n
    gen = torch.Generator().manual_seed(123)
    table = product_table()
    model = fit(max(PRODUCT_V, PRODUCT_CLASSES), PRODUCT_T, product_batch, steps)
    tokens, known = product_batch(n, gen)

    def product_quality(out):
        logp = table[out[:, :1]].squeeze(1).gather(1, out[:, 1:]).log().mean()
        return {"true_logp_per_token": round(float(logp), 4)}

    product = measure(model, tokens, known, product_quality)
    ideal = float((table * table.log()).sum(-1).mean())
    model = fit(PERM_T, PERM_T, permutation_batch, steps * 2)
    tokens, known = permutation_batch(n, gen)
    perm = measure(
        model, tokens, known, lambda out: {"valid_rate": round(float(is_permutation(out).float().mean()), 3)}
    )
    result = {"product": product, "product_ideal_logp_per_token": round(ideal, 4), "permutation": perm, "n": n}
    for task in ("product", "permutation"):
        print(f"\n{task}: calls/token, steps/sequence")
        for sampler, f in result[task].items():
            print(f"  {sampler:16s} {f['calls_per_token']:6.3f} {f['steps_per_sequence']:6.2f}  {f}")
    print(json.dumps(result))
    return result

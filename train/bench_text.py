"""The text σ-GPT against its left-to-right baseline: loss, model calls, speed and quality of every sampler.

Validation loss in both orders, and the σ-GPT's loss on blanked phrases (about a fifth of each window, in
spans of about 4 tokens, filled in random order given the rest: the demo's task); then, for unconditional
generation and for infilling validation passages with half their tokens blanked, every sampler's model
calls per token, steps, wall time, and the quality of its samples as their negative log-likelihood under
the baseline (the same for all exact samplers, up to noise); and the demo's default sampler filling
blanked phrases of those passages, in random and in left-to-right order over the blanks. Sequences are
sampled one at a time, so wall times compare samplers, not batching. The last line printed is the JSON of
every figure (with --json, the only one).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable

import torch
from torch import Tensor

from sigma import SigmaGPT
from sigma.sampling import sample
from sigma.tasks.text import TASK, bpe_size, corpus_tokens, decode, random_blanks, show_fill, split_plays, windows
from sigma.tasks.text.pads import no_pads
from train.loop import apply_threads
from train.text import val_loss, val_spans, val_windows
from train.text_measures import bench_phrases, fills_both_ways, length_choices, phrase_bits, windows_bits
from train.variants import variants


def nll_per_token(model: SigmaGPT, tokens: Tensor) -> Tensor:
    """Negative log-likelihood per token [B] of whole sequences under a model, left to right."""
    with torch.no_grad():
        return -model.log_prob(tokens, order="l2r") / tokens.shape[1]


def run_sampler(
    model: SigmaGPT, tokens: Tensor, known: Tensor, sampler: str, order: str, temperature: float, window="auto"
) -> dict:
    """Sample each row alone; return the completions and per-row calls, slots, steps and seconds."""
    rows = []
    for i in range(tokens.shape[0]):
        t0 = time.perf_counter()
        row = slice(i, i + 1)
        settings = {"sampler": sampler, "order": order, "temperature": temperature, "window": window}
        out = sample(model, tokens[row], known[row], **settings, seed=i, forbid=no_pads(model.config.vocab_size))
        counts = (int(out.model_calls[0]), int(out.tokens_processed[0]), int(out.steps[0]))
        rows.append((out.tokens[0], *counts, time.perf_counter() - t0))
    toks, calls, slots, steps, secs = zip(*rows, strict=True)
    return {"tokens": torch.stack(toks), "calls": calls, "slots": slots, "steps": steps, "seconds": secs}


def figures(run: dict, generated: int, judge: SigmaGPT) -> dict:
    nll = nll_per_token(judge, run["tokens"])
    n = len(run["calls"])
    return {
        "calls_per_token": round(sum(run["calls"]) / generated, 4),
        "slots_per_token": round(sum(run["slots"]) / generated, 3),
        "steps": round(sum(run["steps"]) / n, 2),
        "nll": round(float(nll.mean()), 4),
        "nll_se": round(float(nll.std()) / math.sqrt(n) if n > 1 else float("nan"), 4),
        "seconds": round(sum(run["seconds"]) / n, 4),
    }


def compare(
    sigma: SigmaGPT,
    base: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    order: str,
    temperature: float,
    say: Callable[..., None] = print,
) -> tuple[dict, dict]:
    """Every σ-GPT sampler in `order`, plus the baseline's own sequential left-to-right sampling."""
    generated = int((~known).sum())
    out, samples = {}, {}
    for name, (sampler, window) in variants().items():
        run = run_sampler(sigma, tokens, known, sampler, order, temperature, window)
        out[name], samples[name] = figures(run, generated, base), run["tokens"]
        say(f"  {name:28s} {out[name]}")
    run = run_sampler(base, tokens, known, "sequential", "l2r", temperature)
    out["baseline-sequential-l2r"] = figures(run, generated, base)
    say(f"  {'baseline l2r':16s} {out['baseline-sequential-l2r']}")
    return out, samples


def batched_throughput(model: SigmaGPT, length: int, temperature: float, order: str, batch: int = 16) -> dict:
    """Tokens per second generating `batch` sequences in one batch, sequential against windowed exact."""
    tokens = torch.zeros(batch, length, dtype=torch.long)
    nothing = torch.zeros_like(tokens, dtype=torch.bool)
    out = {}
    for sampler in ("sequential", "exact"):
        settings = {"sampler": sampler, "order": order, "temperature": temperature, "seed": 0}
        result = sample(model, tokens, nothing, **settings, forbid=no_pads(model.config.vocab_size))
        out[sampler] = round(batch * length / result.seconds, 1)
    return out


def phrase_figures(model: SigmaGPT, n: int) -> dict:
    """Held-out phrases of 2-5 words blanked inside verse lines, filled with the app's default settings (line
    breaks forbidden there, as the app does, and allowed); and phrases of 1-4 words as "[...]" blanks."""
    phrases = bench_phrases(model, n)
    return {
        "n": n,
        "bpc_random": round(phrase_bits(model, phrases, "random"), 4),
        **fills_both_ways(model, phrases, TASK.defaults),
        "unknown_length": length_choices(model, bench_phrases(model, n, words=(1, 4), seed=2), TASK.defaults),
        "settings": {"sampler": TASK.defaults.sampler, "order": TASK.defaults.order},
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sigma", default="checkpoints/text", help="σ-GPT checkpoint folder or hub id")
    p.add_argument("--baseline", default="checkpoints/text-l2r", help="left-to-right baseline checkpoint")
    p.add_argument("--n", type=int, default=12, help="sequences per sampler, for generation and for infilling")
    p.add_argument("--n-val", type=int, default=64, help="validation windows for the losses")
    p.add_argument("--n-phrases", type=int, default=64, help="held-out passages with a phrase blanked inside a line")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--order", default="random", help="order of the σ-GPT samplers: random, l2r, r2l, fractal")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    p.add_argument("--json", action="store_true", help="print only the JSON line")


def run(args: argparse.Namespace) -> dict:
    apply_threads(args)  # wall times depend on the threads: set them before anything is timed
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    n, n_val, temperature, order = args.n, args.n_val, args.temperature, args.order
    sigma = SigmaGPT.from_pretrained(args.sigma).eval()
    base = SigmaGPT.from_pretrained(args.baseline).eval()
    T = sigma.config.block_size
    if base.config.block_size != T or bpe_size(base.config.vocab_size) != bpe_size(sigma.config.vocab_size):
        raise ValueError("the σ-GPT and the baseline must share block_size and BPE (one may have the pad token)")
    vocab = sigma.config.vocab_size
    val = val_windows(T, n_val, vocab_size=vocab)
    result: dict = {
        "val_loss": {
            "sigma_l2r": round(val_loss(sigma, val, "l2r"), 4),
            "sigma_random": round(val_loss(sigma, val, "random"), 4),
            "baseline_l2r": round(val_loss(base, val, "l2r"), 4),
            "baseline_random": round(val_loss(base, val, "random"), 4),
            "sigma_infill": round(val_loss(sigma, val, "random", known=val_spans(val)), 4),
        }
    }
    say("validation loss (nats/token):", result["val_loss"])
    losses = result["val_loss"]
    result["val_bpc"] = {
        name: round(windows_bits(sigma, val, losses[name]), 4) for name in ("sigma_l2r", "sigma_random", "baseline_l2r")
    }
    result["val_bpc"]["sigma_infill"] = round(windows_bits(sigma, val, losses["sigma_infill"], val_spans(val)), 4)
    say("validation loss (bits/character):", result["val_bpc"])
    result["phrases"] = phrase_figures(sigma, args.n_phrases)
    say("phrases blanked inside lines, filled with the app's defaults:", result["phrases"])

    length = min(256, T)
    say(f"\nunconditional generation of {length} tokens, {n} sequences, temperature {temperature}:")
    tokens = torch.zeros(n, length, dtype=torch.long)
    nothing = torch.zeros_like(tokens, dtype=torch.bool)
    result["generate"], gen_samples = compare(sigma, base, tokens, nothing, order, temperature, say)

    _, val_names = split_plays()
    passages = windows(corpus_tokens(val_names, vocab), n, length, torch.Generator().manual_seed(1))
    known = random_blanks(passages.shape, 0.5, gen=torch.Generator().manual_seed(2))
    say(f"\ninfilling {n} validation passages of {length} tokens, half of the tokens blanked at random:")
    result["infill"], fill_samples = compare(sigma, base, passages, known, order, temperature, say)
    result["infill_reference_nll"] = round(float(nll_per_token(base, passages).mean()), 4)

    phrases = val_spans(passages, seed=3)
    say("\nfilling blanked phrases of the same passages (about a fifth of each, spans of about 4 tokens),")
    say("with the demo's default sampler, exact-confident, in random and in left-to-right order over the blanks:")
    result["infill_phrases"] = {}
    for phrase_order in ("random", "l2r"):
        run = run_sampler(sigma, passages, phrases, "exact-confident", phrase_order, temperature)
        result["infill_phrases"][phrase_order] = figures(run, int((~phrases).sum()), base)
        say(f"  {phrase_order:16s} {result['infill_phrases'][phrase_order]}")

    for key, task in (("speedup", "generate"), ("speedup_infill", "infill")):
        seq = result[task]["sequential"]["seconds"]
        result[key] = {name: round(seq / f["seconds"], 3) for name, f in result[task].items() if name in variants()}
    result["batched_tokens_per_second"] = batched_throughput(sigma, length, temperature, order)
    say("batched generation, 16 sequences at once (tokens/s):", result["batched_tokens_per_second"])
    result["settings"] = {"tokens": length, "block_size": T, "n": n, "n_val_windows": n_val, "order": order}
    result["settings"]["temperature"] = temperature
    say("\nan exact-sampler infill ([...] = filled in):\n" + show_fill(fill_samples["exact"][0], known[0], vocab))
    say("\nan exact-sampler generation:\n" + decode(gen_samples["exact"][0], vocab))
    print(json.dumps(result))
    return result

"""Text checkpoints with different vocabularies, side by side, on measures that do not depend on the tokenizer.

`python -m train.bench tokenizers runs/ab-1024 runs/ab-4096 runs/ab-8192`: for each checkpoint, the
characters per token of the held-out plays; the loss of held-out windows left to right and in random order,
in bits per character; the loss of phrases blanked inside verse lines (the same passages for every
vocabulary), in bits per character; and the fills of those phrases by the app's default settings: the
real-word rate and the share of fills holding a line break (with line breaks forbidden inside a line, as the
app does, and allowed). The last line printed is the JSON of every figure.
"""

from __future__ import annotations

import argparse
import json

from sigma import SigmaGPT
from sigma.tasks.text import TASK, corpus_tokens, decode, split_plays
from train.loop import apply_threads
from train.text import val_loss, val_windows
from train.text_measures import bench_phrases, fills_both_ways, phrase_bits, windows_bits


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoints", nargs="+", help="text checkpoint folders")
    p.add_argument("--n-val", type=int, default=64, help="held-out windows for the losses")
    p.add_argument("--n-phrases", type=int, default=64, help="held-out passages with a phrase blanked")
    p.add_argument("--threads", type=int, default=1)


def measure(model: SigmaGPT, n_val: int, n_phrases: int) -> dict:
    vocab, T = model.config.vocab_size, model.config.block_size
    _, val_names = split_plays()
    stream = corpus_tokens(val_names, vocab)
    val = val_windows(T, n_val, vocab_size=vocab)
    phrases = bench_phrases(model, n_phrases)
    return {
        "vocab": vocab,
        "parameters": model.num_params(),
        "chars_per_token": round(len(decode(stream, vocab)) / stream.numel(), 3),
        "bpc_l2r": round(windows_bits(model, val, val_loss(model, val, "l2r")), 4),
        "bpc_random": round(windows_bits(model, val, val_loss(model, val, "random")), 4),
        "phrase_bpc_random": round(phrase_bits(model, phrases, "random"), 4),
        "phrase_bpc_l2r": round(phrase_bits(model, phrases, "l2r"), 4),
        **fills_both_ways(model, phrases, TASK.defaults),
    }


def run(args: argparse.Namespace) -> dict:
    apply_threads(args)
    result = {}
    print(
        "| checkpoint | vocab | chars/token | bpc l2r | bpc random | phrase bpc (random) | real words | line breaks |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for path in args.checkpoints:
        f = result[path] = measure(SigmaGPT.from_pretrained(path).eval(), args.n_val, args.n_phrases)
        words, free = f["fills"], f["fills_newlines_allowed"]
        print(
            f"| {path} | {f['vocab']} | {f['chars_per_token']} | {f['bpc_l2r']} | {f['bpc_random']} | "
            f"{f['phrase_bpc_random']} | {words['real_word_rate']:.1%} | {words['newline_rate']:.1%} "
            f"({free['newline_rate']:.1%} allowed) |",
            flush=True,
        )
    print(json.dumps(result))
    return result

"""Train a σ-GPT on Shakespeare: left-to-right → random curriculum, or a left-to-right baseline.

`python -m train text --out checkpoints/text` trains the σ-GPT; `--order l2r --out checkpoints/text-l2r`
trains the baseline of the same size and budget. Validation loss is reported in both orders, because a
model trained in random order must be compared with the baseline on the baseline's own ground.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import Tensor

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks.text import VOCAB_SIZE, VOCAB_SIZES, bpe_size, corpus_tokens, random_spans, split_plays, windows
from train.loop import (
    add_training_arguments,
    apply_threads,
    model_shape,
    run_dir,
    starting_model,
    train,
    train_config,
)
from train.pads import MIN_PAD_WINDOW, add_pad_token, first_step_loss, pad_batch
from train.retokenize import transplant
from train.ship import ship
from train.text_measures import windows_bits


def val_windows(block_size: int, n: int, seed: int = 0, vocab_size: int = VOCAB_SIZE) -> Tensor:
    """A fixed set of validation windows [n, block_size] from the held-out plays."""
    _, val = split_plays()
    return windows(corpus_tokens(val, vocab_size), n, block_size, torch.Generator().manual_seed(seed))


@torch.no_grad()
def val_loss(
    model: SigmaGPT, tokens: Tensor, order: str, known: Tensor | None = None, batch: int = 32, seed: int = 0
) -> float:
    """Mean negative log-likelihood in nats per scored token, in the given order (random orders are seeded).
    With `known`, only the other tokens are scored, each given the known ones and those before it in the order."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    if known is None:
        known = torch.zeros_like(tokens, dtype=torch.bool)
    total = 0.0
    for chunk, k in zip(tokens.split(batch), known.split(batch), strict=True):
        chunk, k = chunk.to(model.device), k.to(model.device)
        total += -float(model.log_prob(chunk, order=order, known=k, generator=gen).sum())
    return total / max(1, int((~known).sum()))


def val_spans(tokens: Tensor, seed: int = 0) -> Tensor:
    """Fixed blanks for the validation windows: about a fifth of each (a quarter asked, less as spans
    overlap), in spans of about 4 tokens."""
    return random_spans(tuple(tokens.shape), 0.25, 4.0, torch.Generator().manual_seed(seed))


def infill_known(shape: tuple[int, int], gen: torch.Generator) -> Tensor:
    """Blanks for one training batch of infilling: 10-50 % of each row in spans of mean length 1-8 tokens."""
    fraction, mean_span = 0.1 + 0.4 * float(torch.rand(1, generator=gen)), 1 + 7 * float(torch.rand(1, generator=gen))
    return random_spans(shape, fraction, mean_span, gen)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_training_arguments(p, out=str(run_dir("text")), steps=3600, batch_size=16, eval_every=250)
    p.add_argument("--order", default="curriculum", choices=["curriculum", "random", "l2r"])
    p.add_argument(
        "--curriculum",
        type=int,
        nargs=2,
        metavar=("START", "END"),
        help="steps where the share of random-order batches starts rising from 0 and reaches 1 "
        "(default: 0 and 2 x --steps, so the last batches are half random: an all-random end forgets l2r order)",
    )
    p.add_argument("--random-share", type=float, default=1.0, help="the share of random-order batches reached at END")
    p.add_argument(
        "--infill-share",
        type=float,
        default=0.0,
        help="share of batches that blank random spans and score only those (what the demo asks of the model)",
    )
    p.add_argument(
        "--pad-share",
        type=float,
        default=0.0,
        help="share of batches with [...] blanks: phrases followed by pads (train/pads.py); above 0, a model "
        "without the pad token gets it",
    )
    p.add_argument("--block-size", type=int, default=256)
    p.add_argument(
        "--vocab",
        type=int,
        choices=VOCAB_SIZES,
        help=f"BPE vocabulary size (default: a fresh model's {VOCAB_SIZE}, else the starting model's); "
        "larger than --init's, the model is moved to it (train/retokenize.py)",
    )
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--val-windows", type=int, default=32, help="validation windows scored at each evaluation")
    p.add_argument("--ship", help="also write the final weights in float16 with config.json to this folder")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> list[dict]:
    apply_threads(args)  # before any torch work, so that building and evaluating the model use them too
    start, end = args.curriculum or (0, 2 * args.steps)
    cfg = train_config(args, (start, end, args.random_share))
    torch.manual_seed(args.seed)

    def fresh() -> SigmaGPT:
        vocab = args.vocab or VOCAB_SIZE
        config = SigmaConfig(vocab_size=vocab, block_size=args.block_size, dropout=args.dropout, **model_shape(args))
        return SigmaGPT(config)

    model = starting_model(args, fresh, dropout=args.dropout)
    if args.vocab and args.vocab != model.config.vocab_size:
        if args.resume and (Path(args.out) / "train_state.json").exists():
            raise SystemExit(f"{args.out} holds a {model.config.vocab_size}-token run: resume it without --vocab")
        model = transplant(model, args.vocab)
    if args.pad_share > 0 and model.config.vocab_size in VOCAB_SIZES:
        model = add_pad_token(model)
    args.block_size, vocab = model.config.block_size, bpe_size(model.config.vocab_size)
    train_names, _ = split_plays()
    stream = corpus_tokens(train_names, vocab)
    val = val_windows(args.block_size, args.val_windows, vocab_size=vocab)
    val_known = val_spans(val)
    val_pads = pad_batch(val, torch.Generator().manual_seed(0), vocab) if model.config.vocab_size > vocab else None
    print(f"{model.num_params():,} parameters; {stream.numel():,} training tokens; order {args.order}")

    def batch_fn(batch: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        if args.pad_share and float(torch.rand(1, generator=gen)) < args.pad_share:
            # passages of any length, as the page's are: a model that saw only full windows reads the end of a
            # short passage as a cut and no longer knows where a blank's phrase ends
            length = int(torch.randint(MIN_PAD_WINDOW, args.block_size + 1, (1,), generator=gen))
            return pad_batch(windows(stream, batch, length, gen), gen, vocab)
        tokens = windows(stream, batch, args.block_size, gen)
        if float(torch.rand(1, generator=gen)) < args.infill_share:
            return tokens, infill_known(tuple(tokens.shape), gen)
        return tokens, torch.zeros_like(tokens, dtype=torch.bool)

    def evaluate(m: SigmaGPT) -> dict:
        l2r, rand = val_loss(m, val, "l2r"), val_loss(m, val, "random")
        infill = val_loss(m, val, "random", known=val_known)
        pads = {}
        if val_pads is not None:
            with torch.no_grad():
                first = float(first_step_loss(m, *val_pads))
            chain = val_loss(m, val_pads[0], "random", known=val_pads[1])
            pads = {"val_pads": round(chain, 4), "val_pads_first": round(first, 4)}
        return pads | {
            "val_l2r": round(l2r, 4),
            "val_random": round(rand, 4),
            "val_infill": round(infill, 4),
            "bpc_l2r": round(windows_bits(m, val, l2r), 4),
            "bpc_random": round(windows_bits(m, val, rand), 4),
            "bpc_infill": round(windows_bits(m, val, infill, val_known), 4),
        }

    extra = first_step_loss if args.pad_share else None  # batches with [...] blanks also learn a run's first step
    log = train(model, batch_fn, cfg, args.out, evaluate, args.resume, not args.no_progress, extra)
    (Path(args.out) / "train_log.json").write_text(json.dumps(log, indent=1))
    if args.ship:
        ship(model, args.ship)
    return log

"""Train a σ-GPT (or a left-to-right baseline) on aircraft vertical profiles, and measure it.

    python -m train.signal_data --out runs/signal-data          # the flights, once (needs openap)
    python -m train.signal --out runs/signal                   # σ-GPT, random order
    python -m train.signal --order l2r --out runs/signal-l2r   # the baseline: same size, same budget
    python -m train.signal --report checkpoints/signal         # test-split figures of a checkpoint
    python -m train.signal --report checkpoints/signal-l2r --order l2r

Every sequence is a whole flight (see `sigma.tasks.signal`), scored on all of its steps. Evaluation: the
validation negative log-likelihood in random and in left-to-right order (nats per step), and the forecast
error: the mean absolute altitude error, in feet, of the last two thirds of a flight drawn from its first third.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import Tensor

from sigma import SigmaConfig, SigmaGPT
from sigma.sampling import sample
from sigma.tasks import signal as sg
from train.loop import (
    add_training_arguments,
    apply_threads,
    model_shape,
    run_dir,
    starting_model,
    train,
    train_config,
)
from train.text import val_loss


def split_tokens(data: str | Path, split: str) -> Tensor:
    """The altitude tokens [N, LENGTH] of a split written by `python -m train.signal_data`."""
    from safetensors.numpy import load_file

    path = Path(data) / f"{split}.safetensors"
    if not path.exists():
        raise SystemExit(f"no {path}: generate the flights first with `python -m train.signal_data --out {data}`")
    return torch.from_numpy(sg.quantise(load_file(str(path))["altitude_ft"]))


def prefix_known(batch: int, share: float, gen: torch.Generator) -> Tensor:
    """[batch, LENGTH] bool: a `share` of the rows know their first k steps (k uniform in 1..LENGTH-1), the
    others nothing. A known step comes first in the order and is not scored, so these rows train exactly the
    forecast from a prefix; the rest of each row is still drawn in random order."""
    prefix = torch.randint(1, sg.LENGTH, (batch, 1), generator=gen)
    prefix[torch.rand(batch, 1, generator=gen) >= share] = 0
    return torch.arange(sg.LENGTH)[None] < prefix


def forecast_mae(
    model: SigmaGPT,
    flights: Tensor,
    *,
    known: Tensor | None = None,
    sampler: str = "exact-confident",
    order: str = "random",
    temperature: float = 0.0,
    samples: int = 1,
    seed: int = 0,
) -> dict:
    """Mean absolute error (ft) of the unknown steps of `flights` [N, T], drawn given the `known` ones [T]
    (default: the first third); with `samples` > 1, of the per-step median of that many draws."""
    if known is None:
        known = torch.tensor(sg.forecast_known(flights.shape[1]))
    known = known.expand_as(flights)
    draws, calls = [], []
    for k in range(samples):
        out = sample(
            model,
            flights.to(model.device),
            known.to(model.device),
            sampler=sampler,
            order=order,
            temperature=temperature,
            seed=seed + k,
        )
        draws.append(out.tokens.cpu())
        calls.append(out.model_calls.float().mean().item())
    point = torch.stack(draws).median(dim=0).values if samples > 1 else draws[0]
    return {"mae_ft": round(sg.mae_ft(point, flights, known), 1), "model_calls": round(sum(calls) / len(calls), 1)}


def band_coverage(
    model: SigmaGPT, flights: Tensor, *, draws: int = 32, sampler: str = "exact", order: str = "random", seed: int = 0
) -> dict:
    """How often the true altitude of a forecast step lies inside the 50 % and 90 % bands of `draws` draws at
    temperature 1 (the fan chart's bands): 0.5 and 0.9 for a calibrated model. One batch of N x draws rows."""
    known = torch.tensor(sg.forecast_known(flights.shape[1])).expand(len(flights) * draws, -1)
    rows = flights.repeat_interleave(draws, dim=0)
    out = sample(model, rows.to(model.device), known.to(model.device), sampler=sampler, order=order, seed=seed)
    feet = torch.from_numpy(sg.dequantise(out.tokens.cpu().view(len(flights), draws, -1))).float()
    truth = torch.from_numpy(sg.dequantise(flights)).float()
    shares = {}
    for name, lo, hi in (("in_50", 0.25, 0.75), ("in_90", 0.05, 0.95)):
        low, high = feet.quantile(lo, dim=1), feet.quantile(hi, dim=1)
        inside = (truth >= low) & (truth <= high)
        shares[name] = round(float(inside[:, ~known[0]].float().mean()), 3)
    return shares


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_training_arguments(
        p, out=str(run_dir("signal")), steps=3000, batch_size=64, lr=2e-3, warmup=100, eval_every=500
    )
    p.add_argument("--order", default="random", choices=["random", "l2r"])
    p.add_argument(
        "--prefix-share",
        type=float,
        default=0.0,
        help="share of flights whose first k steps (k uniform in 1..LENGTH-1) are given and not scored: "
        "a forecast from any prefix, the rest in random order",
    )
    p.add_argument("--data", default="runs/signal-data", help="the flights from `python -m train.signal_data`")
    p.add_argument("--eval-n", type=int, default=64, help="validation flights forecast at each evaluation")
    p.add_argument("--ship", help="also write the final weights in float16 with config.json to this folder")
    p.add_argument("--report", metavar="CHECKPOINT", help="measure this checkpoint on the test split; no training")
    p.add_argument("--report-n", type=int, default=256, help="test flights the report measures")
    p.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> list[dict]:
    if args.report:
        return report(args)
    from train.ship import ship

    apply_threads(args)  # before any torch work, so that building and evaluating the model use them too
    cfg = train_config(args)
    torch.manual_seed(args.seed)

    def fresh() -> SigmaGPT:
        return SigmaGPT(SigmaConfig(vocab_size=sg.VOCAB_SIZE, block_size=sg.LENGTH, **model_shape(args)))

    model = starting_model(args, fresh)
    flights, val = split_tokens(args.data, "train"), split_tokens(args.data, "val")
    print(f"signal: {model.num_params():,} parameters; {len(flights):,} training flights; order {args.order}")
    sampler, order = ("sequential", "l2r") if args.order == "l2r" else ("exact-confident", "random")

    def batch_fn(batch: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        tokens = flights[torch.randint(len(flights), (batch,), generator=gen)]
        return tokens, prefix_known(batch, args.prefix_share, gen)

    def evaluate(m: SigmaGPT) -> dict:
        return {
            "val_random": round(val_loss(m, val, "random", batch=128), 4),
            "val_l2r": round(val_loss(m, val, "l2r", batch=128), 4),
            "forecast_mae_ft": forecast_mae(m, val[: args.eval_n], sampler=sampler, order=order)["mae_ft"],
        }

    log = train(model, batch_fn, cfg, args.out, evaluate, resume=args.resume, progress=not args.no_progress)
    (Path(args.out) / "train_log.json").write_text(json.dumps(log, indent=1))
    if args.ship:
        ship(model, args.ship)
    return log


# (sampler, order, temperature, samples): what the report measures; temperature 0 is the greedy forecast,
# the median of several draws at temperature 1 the point forecast of the model's own distribution
REPORT = (
    ("sequential", "l2r", 0.0, 1),
    ("sequential", "l2r", 1.0, 1),
    ("sequential", "l2r", 1.0, 8),
    ("exact-confident", "random", 0.0, 1),
    ("exact", "random", 1.0, 1),
    ("exact", "random", 1.0, 8),
    ("burst", "random", 1.0, 1),
    ("exact-confident", "random", 1.0, 1),
)


def report(args: argparse.Namespace) -> list[dict]:
    """Test-split figures of one checkpoint: NLL in both orders, the fan chart's band coverage, then forecast and
    gap-filling errors for every setting in REPORT (left-to-right ones only with --order l2r), with model calls
    per flight and seconds per setting."""
    if args.threads:
        torch.set_num_threads(args.threads)
    model = SigmaGPT.from_pretrained(args.report).float().eval()
    test = split_tokens(args.data, "test")
    flights = test[: args.report_n]
    figures = {
        "checkpoint": args.report,
        "test_flights": len(test),
        "nll_random": round(val_loss(model, test, "random", batch=128), 4),
        "nll_l2r": round(val_loss(model, test, "l2r", batch=128), 4),
    }
    print(json.dumps(figures), flush=True)
    rows = [figures]
    gap = torch.tensor([not sg.LENGTH // 4 <= i < 3 * sg.LENGTH // 4 for i in range(sg.LENGTH)])
    own = [r for r in REPORT if args.order != "l2r" or r[1] == "l2r"]  # the baseline reads left to right only
    sampler, order = ("sequential", "l2r") if args.order == "l2r" else ("exact", "random")
    coverage = {"task": "fan", "sampler": sampler, "order": order, "flights": len(flights[:64]), "draws": 32}
    coverage |= band_coverage(model, flights[:64], sampler=sampler, order=order)
    print(json.dumps(coverage), flush=True)
    rows.append(coverage)
    for sampler, order, temperature, samples in own:
        for task, known in (("forecast", None), ("gap", gap)):
            start = time.perf_counter()
            got = forecast_mae(
                model, flights, known=known, sampler=sampler, order=order, temperature=temperature, samples=samples
            )
            row = {"task": task, "sampler": sampler, "order": order, "temperature": temperature, "samples": samples}
            row |= got | {"seconds": round(time.perf_counter() - start, 1), "flights": len(flights)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.signal", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()

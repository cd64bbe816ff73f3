"""One training loop for every task: batches from a task function, orders from a policy, the loss from
`SigmaGPT.log_prob`, checkpoints that resume, and DistributedDataParallel when run under torchrun.

Optimizer state is stored as safetensors plus JSON (no pickles), so a run can stop at any time and go
on later, on the same or another machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from tqdm import tqdm

from sigma import SigmaGPT
from sigma.orders import ORDER_NAMES, Curriculum
from train.grow import add_layers
from train.tie import tie_embeddings

BatchFn = Callable[[int, torch.Generator], tuple[Tensor, Tensor]]  # (batch size, gen) -> tokens, known
EvalFn = Callable[[SigmaGPT], dict]


@dataclass
class TrainConfig:
    """A run's schedule and control; the command line of every task takes its defaults from here."""

    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    order: str = "random"  # random, l2r, r2l, fractal, curriculum
    curriculum: tuple = (0, 0)  # (start, end[, share]): the random share rises from 0 at start to share (1) at end
    eval_every: int = 500
    save_every: int = 500
    seed: int = 0
    device: str = "auto"
    time_limit: float = 0.0  # seconds; stop cleanly (and save) after this long, 0 = no limit
    workers: int = 0  # processes that build batches ahead of the training step (0: in the main process)
    dtype: str = "auto"  # forward pass: bf16 autocast (weights and optimizer stay float32), fp32, or auto

    def __post_init__(self) -> None:
        if self.order not in (*ORDER_NAMES, "curriculum"):
            raise ValueError(f"unknown order policy {self.order!r}")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise ValueError(f"unknown dtype {self.dtype!r}: use auto, bf16 or fp32")
        self.curriculum = tuple(self.curriculum)


def run_dir(name: str) -> Path:
    """Where a run named `name` lives by default: outside the work tree, so that it outlives a checkout and
    `--resume` finds it the next time ($SIGMA_RUNS, else ~/.cache/sigma-studio/runs)."""
    root = os.environ.get("SIGMA_RUNS") or Path.home() / ".cache" / "sigma-studio" / "runs"
    return Path(root) / name


def add_training_arguments(p: argparse.ArgumentParser, **overrides) -> None:
    """The flags every task shares (model size, schedule, run control). Defaults are TrainConfig's, plus the
    model shape and --out, which it does not hold; `overrides` changes them per task."""
    d = {**asdict(TrainConfig()), "n_layer": 4, "n_head": 4, "n_embd": 128, "out": str(run_dir("run")), **overrides}
    p.add_argument("--out", default=d["out"], help="run folder (config.json, model.safetensors, optimizer, state)")
    p.add_argument("--steps", type=int, default=d["steps"])
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--n-layer", type=int, default=d["n_layer"])
    p.add_argument("--n-head", type=int, default=d["n_head"])
    p.add_argument("--n-embd", type=int, default=d["n_embd"])
    p.add_argument(
        "--tie-embeddings",
        action="store_true",
        help="one matrix embeds tokens and scores them (train/tie.py); with --init, ties the starting model's",
    )
    p.add_argument(
        "--add-layers",
        type=int,
        default=0,
        help="with --init: this many more layers on top, each the identity until trained (train/grow.py)",
    )
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--warmup", type=int, default=d["warmup"])
    p.add_argument("--eval-every", type=int, default=d["eval_every"], help="steps between evaluations and saves")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--device", default=d["device"], help="auto, cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    p.add_argument(
        "--time-limit", type=float, default=d["time_limit"], help="stop cleanly (and save) after this many seconds"
    )
    p.add_argument("--resume", action="store_true", help="go on from the checkpoint and optimizer state in --out")
    p.add_argument("--workers", type=int, default=d["workers"], help="processes that build batches ahead (0: none)")
    p.add_argument(
        "--dtype",
        default=d["dtype"],
        choices=["auto", "bf16", "fp32"],
        help="forward pass precision; auto: bf16 on GPUs and on CPUs with native bf16 (weights stay fp32)",
    )
    p.add_argument("--init", help="start from this checkpoint's weights and shape (fresh optimizer and schedule)")


def model_shape(args: argparse.Namespace) -> dict:
    """The shared model-size flags as SigmaConfig fields."""
    shape = {"n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd}
    return shape | {"tie_embeddings": args.tie_embeddings}


def apply_threads(args: argparse.Namespace) -> None:
    """Torch's CPU threads from --threads (0 keeps torch's default); commands call it as their run starts."""
    if args.threads:
        torch.set_num_threads(args.threads)


def starting_model(args: argparse.Namespace, fresh: Callable[[], SigmaGPT], **overrides) -> SigmaGPT:
    """The model a run starts from, and the one place a run's weights are loaded: its own checkpoint in --out
    when resuming (`train(resume=True)` then restores the optimizer and the step), else --init's weights (with
    config `overrides` such as dropout; tied with --tie-embeddings, deepened by --add-layers), else `fresh()`."""
    out = Path(args.out)
    if args.resume and (out / "train_state.json").exists():
        return SigmaGPT.from_pretrained(out)
    if args.init:
        base = SigmaGPT.from_pretrained(args.init)
        model = SigmaGPT(replace(base.config, **overrides))
        model.load_state_dict(base.state_dict())
        model = tie_embeddings(model) if args.tie_embeddings else model
        return add_layers(model, args.add_layers)
    return fresh()


def train_config(args: argparse.Namespace, curriculum: tuple = (0, 0)) -> TrainConfig:
    """TrainConfig from the shared flags; checkpoints are saved at every evaluation."""
    return TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup=args.warmup,
        order=args.order,
        curriculum=curriculum,
        eval_every=args.eval_every,
        save_every=args.eval_every,
        seed=args.seed,
        device=args.device,
        time_limit=args.time_limit,
        workers=args.workers,
        dtype=args.dtype,
    )


# Every random draw of a step is seeded by the step, so a resumed run sees what an uninterrupted one would have.
def batch_seed(seed: int, step: int, rank: int) -> int:
    """Seed of the training batch of `step` on process `rank`."""
    return seed * 1_000_003 + step * 97 + rank


def curriculum_seed(seed: int, step: int) -> int:
    """Seed of the curriculum's choice of order policy at `step`, the same on every process."""
    return seed * 7919 + step


def order_seed(seed: int, step: int, rank: int) -> int:
    """Seed of the random orders drawn for the batch of `step` on process `rank`."""
    return seed * 1_000_033 + step * 89 + rank


ExtraLoss = Callable[[SigmaGPT, Tensor, Tensor], Tensor]  # (model, tokens, known) -> a loss added to the batch's


class Objective(nn.Module):
    """Mean negative log-likelihood per scored token (plus a task's `extra` loss, if any), as a forward() so
    that DDP can sync gradients."""

    def __init__(self, model: SigmaGPT, extra: ExtraLoss | None = None):
        super().__init__()
        self.model = model
        self.extra = extra

    def forward(self, tokens: Tensor, known: Tensor, order: str, gen: torch.Generator) -> Tensor:
        logp = self.model.log_prob(tokens, order=order, known=known, generator=gen)
        loss = -logp.sum() / (~known).sum().clamp(min=1)
        return loss if self.extra is None else loss + self.extra(self.model, tokens, known)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def save_state(out: Path, model: SigmaGPT, opt: torch.optim.Optimizer, step: int, cfg: TrainConfig, log: list) -> None:
    """Weights as the shipped format, optimizer moments as safetensors, progress as JSON."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    names = {id(p): n for n, p in model.named_parameters()}
    tensors = {}
    for group in opt.param_groups:
        for p in group["params"]:
            for key, value in opt.state.get(p, {}).items():
                tensors[f"{names[id(p)]}::{key}"] = (
                    value.detach().float().cpu().contiguous().reshape(-1)
                    if key == "step"
                    else value.detach().cpu().contiguous()
                )
    save_file(tensors, str(out / "optimizer.safetensors"))
    state = {"step": step, "train_config": asdict(cfg), "log": log}
    (out / "train_state.json").write_text(json.dumps(state, indent=1))


def load_state(out: Path, model: SigmaGPT, opt: torch.optim.Optimizer) -> tuple[int, list]:
    """Step and log from train_state.json; optimizer moments too where they were kept (a run moved to
    another machine with its weights alone goes on with fresh moments)."""
    info = json.loads((out / "train_state.json").read_text())
    if not (out / "optimizer.safetensors").exists():
        return info["step"], info["log"]
    tensors = load_file(str(out / "optimizer.safetensors"))
    params = dict(model.named_parameters())
    for key, value in tensors.items():
        name, slot = key.split("::")
        p = params[name]
        state = opt.state[p]
        state[slot] = value.reshape(()) if slot == "step" else value.to(p.device)
    return info["step"], info["log"]


class StepBatches(torch.utils.data.IterableDataset):
    """The batch of every step from `start` on, each seeded by its step, so that a run sees the same
    data whether batches are built in the main process or by workers (which take turns in order)."""

    def __init__(self, batch_fn: BatchFn, cfg: TrainConfig, start: int, rank: int):
        self.batch_fn, self.cfg, self.start, self.rank = batch_fn, cfg, start, rank

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        first, stride = (info.id, info.num_workers) if info else (0, 1)
        for step in range(self.start + first, self.cfg.steps, stride):
            gen = torch.Generator().manual_seed(batch_seed(self.cfg.seed, step, self.rank))
            yield self.batch_fn(self.cfg.batch_size, gen)


def batch_stream(batch_fn: BatchFn, cfg: TrainConfig, start: int, rank: int) -> Iterator[tuple[Tensor, Tensor]]:
    batches = StepBatches(batch_fn, cfg, start, rank)
    if cfg.workers == 0:
        return iter(batches)
    return iter(
        torch.utils.data.DataLoader(
            batches,
            batch_size=None,
            num_workers=cfg.workers,
            prefetch_factor=4,
            worker_init_fn=lambda _: torch.set_num_threads(1),
            multiprocessing_context="fork",  # batch functions are closures; workers never touch CUDA
        )
    )


def setup_distributed(cfg: TrainConfig) -> tuple[torch.device, int, bool]:
    """The device, the rank and whether the run is distributed. Under torchrun (WORLD_SIZE > 1) every process
    joins the group, with nccl on GPUs and gloo on CPUs, and takes the GPU of its local rank."""
    device = pick_device(cfg.device)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device, 0, False
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    return device, dist.get_rank(), True


def any_rank(flag: bool, device: torch.device) -> bool:
    """Whether `flag` holds on any rank of the group."""
    t = torch.tensor([int(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on the matrices and embeddings (two or more dimensions), none on biases and gains."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matmuls run in hardware: on GPUs, and on CPUs with AVX-512 BF16 or AMX. Elsewhere
    they are emulated, and a bf16 step measured 3.8x slower than fp32 (see the maze card)."""
    if device.type == "cuda":
        return True
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocast(device: torch.device, dtype: str) -> torch.autocast:
    """Mixed precision for the forward pass: bfloat16 matmuls with float32 master weights and optimizer state
    (about 1.2x faster than float32 on a CPU with AVX-512 BF16), or full precision; `auto` picks bf16 where
    it is native."""
    enabled = dtype == "bf16" or (dtype == "auto" and native_bf16(device))
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def train(
    model: SigmaGPT,
    batch_fn: BatchFn,
    cfg: TrainConfig,
    out_dir: str | Path | None = None,
    evaluate: EvalFn | None = None,
    resume: bool = False,
    progress: bool = True,
    extra: ExtraLoss | None = None,
) -> list[dict]:
    """Train `model` in place; returns the log (one dict per evaluation). With `resume`, the step, the log
    and the optimizer moments come from `out_dir`; `model` must already hold that run's weights
    (`starting_model` or `SigmaGPT.from_pretrained(out_dir)`). `extra(model, tokens, known)` adds a task's own
    loss to each batch's (train/pads.py's first-step loss)."""
    # -- distributed setup
    device, rank, distributed = setup_distributed(cfg)
    model.to(device)
    objective = Objective(model, extra)
    if distributed:
        objective = nn.parallel.DistributedDataParallel(objective)

    # -- optimizer
    opt = make_optimizer(model, cfg)

    # -- resume
    out = Path(out_dir) if out_dir else None
    start, log = 0, []
    if resume and out and (out / "train_state.json").exists():
        start, log = load_state(out, model, opt)

    # -- the loop
    curriculum = Curriculum(*cfg.curriculum)
    order_gen = torch.Generator(device=device)
    batches = batch_stream(batch_fn, cfg, start, rank)
    precision = autocast(device, cfg.dtype)
    bar = tqdm(
        range(start, cfg.steps),
        initial=start,
        total=cfg.steps,
        disable=rank != 0 or not progress,
        dynamic_ncols=True,
        mininterval=2.0,
    )
    t0, tokens_seen = time.perf_counter(), 0
    for step in bar:
        # one optimizer step
        tokens, known = next(batches)
        tokens, known = tokens.to(device, non_blocking=True), known.to(device, non_blocking=True)
        if cfg.order == "curriculum":
            order = curriculum.order_at(step, random.Random(curriculum_seed(cfg.seed, step)))
        else:
            order = cfg.order
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        model.train()
        with precision:
            loss = objective(tokens, known, order, order_gen.manual_seed(order_seed(cfg.seed, step, rank)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()

        # progress, then evaluation and checkpoint on rank 0 (at their intervals, the last step and the time limit)
        tokens_seen += tokens.numel()
        if step % 10 == 0:
            rate = tokens_seen / max(1e-9, time.perf_counter() - t0)
            bar.set_postfix(loss=f"{loss.item():.4f}", order=order, tok_s=f"{rate:,.0f}")
        last = step + 1 == cfg.steps
        timed_out = bool(cfg.time_limit) and time.perf_counter() - t0 > cfg.time_limit
        if distributed and cfg.time_limit:
            timed_out = any_rank(timed_out, device)  # every rank stops at the same step, or the others hang
        if rank == 0 and evaluate and (last or timed_out or (step + 1) % cfg.eval_every == 0):
            model.eval()
            figures = {"step": step + 1, "loss": round(loss.item(), 5), **evaluate(model)}
            log.append(figures)
            tqdm.write(json.dumps(figures))
        if rank == 0 and out and (last or timed_out or (step + 1) % cfg.save_every == 0):
            save_state(out, model, opt, step + 1, cfg, log)
        if timed_out:
            tqdm.write(f"time limit reached at step {step + 1}; resume with --resume")
            break

    # -- teardown: ranks leave together, after rank 0's last evaluation and save, and drop the DDP wrapper
    # (whose reducer holds gloo work) before the group goes; a rank that leaves early can abort at exit
    if distributed:
        dist.barrier()
        del objective
        dist.destroy_process_group()
    return log

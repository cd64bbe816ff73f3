"""The training loop: a resumed run continues exactly where it stopped, and DDP runs under torchrun."""

import argparse
import os
import subprocess
import sys

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks import maze as mz
from train.loop import TrainConfig, starting_model, train
from train.toy import product_batch


def tiny() -> SigmaGPT:
    torch.manual_seed(0)
    return SigmaGPT(SigmaConfig(vocab_size=8, block_size=16, n_layer=1, n_head=2, n_embd=16))


def test_resume_continues_the_same_run(tmp_path):
    cfg = dict(batch_size=8, lr=1e-2, warmup=2, order="curriculum", curriculum=(0, 6), device="cpu")
    straight = tiny()
    train(straight, product_batch, TrainConfig(steps=6, **cfg), progress=False)
    first = tiny()
    train(
        first,
        product_batch,
        TrainConfig(steps=6, save_every=3, time_limit=1e-9, **cfg),
        out_dir=tmp_path,
        progress=False,
    )  # stops (and saves) after its first step
    resumed = starting_model(argparse.Namespace(out=str(tmp_path), resume=True, init=None), tiny)
    for a, b in zip(first.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b)  # the saved weights, not fresh ones
    assert any(not torch.equal(a, b) for a, b in zip(tiny().parameters(), resumed.parameters(), strict=True))
    train(
        resumed, product_batch, TrainConfig(steps=6, save_every=3, **cfg), out_dir=tmp_path, resume=True, progress=False
    )
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert (tmp_path / "optimizer.safetensors").exists() and (tmp_path / "model.safetensors").exists()


def test_workers_build_the_same_batches_as_the_main_process():
    """Batches are seeded by their step, so the number of workers changes nothing in a run."""
    cfg = dict(steps=5, batch_size=4, lr=1e-2, warmup=2, device="cpu")
    alone, helped = tiny(), tiny()
    train(alone, product_batch, TrainConfig(**cfg), progress=False)
    train(helped, product_batch, TrainConfig(workers=2, **cfg), progress=False)
    for a, b in zip(alone.parameters(), helped.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_resume_from_weights_alone_keeps_the_step(tmp_path):
    """A run carried to another machine without its optimizer moments goes on from its step."""
    cfg = dict(batch_size=8, lr=1e-2, warmup=2, device="cpu", save_every=3)
    train(tiny(), product_batch, TrainConfig(steps=3, **cfg), out_dir=tmp_path, progress=False)
    (tmp_path / "optimizer.safetensors").unlink()
    log = train(
        SigmaGPT.from_pretrained(tmp_path),
        product_batch,
        TrainConfig(steps=5, eval_every=1, **cfg),
        tmp_path,
        lambda m: {},
        resume=True,
        progress=False,
    )
    assert [entry["step"] for entry in log] == [4, 5]


def test_loss_falls_on_a_toy_task():
    model = tiny()
    log = train(
        model,
        product_batch,
        TrainConfig(steps=60, batch_size=32, lr=1e-2, warmup=5, eval_every=60, device="cpu"),
        evaluate=lambda m: {},
        progress=False,
    )
    assert log[-1]["loss"] < 1.9  # chance is ln 8 ≈ 2.08 per token; the class-conditional tables sit near 1.24


def test_maze_training_smoke_with_two_ddp_processes(tmp_path):
    """Two CPU processes with the gloo backend, a few steps, then a checkpoint that loads."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "train",
        "maze",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--n-layer",
        "1",
        "--n-embd",
        "16",
        "--n-head",
        "2",
        "--eval-every",
        "3",
        "--eval-n",
        "4",
        "--time-limit",
        "600",  # never reached; the ranks still agree on it every step
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "run"),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    model = SigmaGPT.from_pretrained(tmp_path / "run")
    assert mz.grid_of(model) == (9, 9)
    assert '"valid"' in done.stdout + done.stderr


def test_throughput_bench_times_every_lever(tmp_path):
    import argparse

    from sigma import SigmaConfig, SigmaGPT
    from train import bench_throughput

    cfg = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=16, grid=(2, 9, 9))
    SigmaGPT(cfg).save_pretrained(tmp_path / "m")
    p = argparse.ArgumentParser()
    bench_throughput.add_arguments(p)
    flags = ["--checkpoint", str(tmp_path / "m"), "--steps", "1", "--threads", "1", "--batch-sizes", "4"]
    result = bench_throughput.run(p.parse_args(flags))
    assert [(lv["dtype"], lv["batch"]) for lv in result["levers"]] == [("fp32", 4), ("bf16", 4)]
    assert all(lv["mazes_per_s"] > 0 for lv in result["levers"]) and isinstance(result["native_bf16"], bool)

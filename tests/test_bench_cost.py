"""The tries figures of `python -m train.bench cost` on a tiny maze model: every batch size, per batch and per row."""

import torch

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks import maze as mz
from train.bench_cost import maze_sources, tries_figures


def test_tries_figures_report_every_batch_size():
    torch.manual_seed(0)
    cfg = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    model = SigmaGPT(cfg).eval()
    figures = tries_figures(model, mz.TASK, maze_sources(model, 2), sizes=(1, 3), repeats=1)
    assert set(figures) == {"1", "3"} and figures["1"]["vs_one_try"] == 1.0
    row = figures["3"]
    assert row["ms_per_batch"] > 0 and abs(row["ms_per_row"] * 3 - row["ms_per_batch"]) < 0.1

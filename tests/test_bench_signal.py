"""The signal bench on tiny models and the shipped example flights: its figures, and the baseline's prefix-only
draws (known steps forced as they are reached, the model's cache matching a full pass)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from safetensors.numpy import save_file

from sigma import SigmaConfig, SigmaGPT
from sigma.tasks import signal as sg
from train import bench_signal


def tiny() -> SigmaGPT:
    torch.manual_seed(0)
    return SigmaGPT(SigmaConfig(vocab_size=sg.VOCAB_SIZE, block_size=sg.LENGTH, n_layer=1, n_head=2, n_embd=32)).eval()


def example_flights() -> np.ndarray:
    """The flights the app ships for its examples, in feet, as `python -m train.signal_data` writes a split."""
    return np.array([f["tokens"] for f in sg.example_flights()], dtype=np.int64) * sg.BIN_FT


def test_infill_known_is_a_seeded_fifth():
    flights = torch.zeros(5, sg.LENGTH, dtype=torch.long)
    known = bench_signal.infill_known(flights, 0.2, seed=3)
    assert known.sum(dim=1).tolist() == [round(0.2 * sg.LENGTH)] * 5
    assert torch.equal(known, bench_signal.infill_known(flights, 0.2, seed=3))


def test_prefix_draws_force_the_known_steps_and_read_only_the_past():
    model = tiny()
    rows = torch.randint(0, sg.VOCAB_SIZE, (4, sg.LENGTH))
    known = bench_signal.infill_known(rows, 0.3, seed=1)
    drawn = bench_signal.prefix_draws(model, rows, known, seed=0)
    assert torch.equal(drawn[known], rows[known])
    later = rows.clone()
    later[:, 64:] = (later[:, 64:] + 7) % sg.VOCAB_SIZE  # what lies ahead cannot change the draws before it
    assert torch.equal(bench_signal.prefix_draws(model, later, known, seed=0)[:, :64], drawn[:, :64])


def test_signal_bench_prints_every_figure(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    save_file({"altitude_ft": example_flights()[:3]}, str(data / "test.safetensors"))
    for name in ("sigma", "base"):
        tiny().save_pretrained(tmp_path / name)
    parser = argparse.ArgumentParser()
    bench_signal.add_arguments(parser)
    flags = ["--sigma", str(tmp_path / "sigma"), "--baseline", str(tmp_path / "base"), "--data", str(data)]
    args = [*flags, "--n", "3", "--draws", "2", "--speed-n", "1", "--threads", "0", "--json"]
    result = bench_signal.run(parser.parse_args(args))
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1]) == result and "forecast:" not in out  # --json: no tables
    for task in ("forecast", "infill"):
        for who in ("sequential", "burst", "exact", "exact-confident", "baseline_l2r"):
            assert {"mae_ft", "in_90", "pit_90", "in_50", "repeats", "calls_per_step"} <= set(result[task][who])
        assert result[task]["sequential"]["calls_per_step"] == 1.0 and "exact" in result[task]["speedup"]
        for regime in ("one_fill", "one_spread"):  # the page's regimes: one flight, alone or as the draws
            assert result[task][regime]["speedup"]["sequential"] == 1.0 and result[task][regime]["ms"]["exact"] > 0


def test_rank_calibration_is_unbiased_for_few_draws_on_a_grid_and_flags_overconfidence():
    """20,000 steps whose truth and 16 draws come from one distribution over the 90 altitude bins: the rank
    calibration lands at 0.90 (its standard error is 0.002; tolerance 0.01), where the 5–95 % band of 16 draws
    holds the truth about 79 % of the time. Draws that all sit at the mode fail it."""
    gen = torch.Generator().manual_seed(0)
    probs = torch.exp(-0.5 * ((torch.arange(90) - 45) / 8.0) ** 2)
    flights = torch.multinomial(probs, 20_000, replacement=True, generator=gen).view(100, 200)
    draws = torch.multinomial(probs, 16 * 20_000, replacement=True, generator=gen).view(100, 200, 16).transpose(1, 2)
    known = torch.zeros_like(flights, dtype=torch.bool)
    calibrated = bench_signal.figures(draws, flights, known)
    assert abs(calibrated["pit_90"] - 0.9) < 0.01 and abs(calibrated["pit_50"] - 0.5) < 0.01
    assert calibrated["in_90"] < 0.85
    overconfident = bench_signal.figures(torch.full_like(draws, 45), flights, known)
    assert overconfident["pit_90"] < 0.3


def test_the_shipped_test_flights_are_the_test_split_and_the_bench_runs_on_them(tmp_path):
    """From a fresh clone the bench needs no generation step: it reads the first flights of the test split,
    shipped in train/data/. The app's example flights are test flights by seed; they must match those rows."""
    from train import signal_data

    shipped = signal_data.test_flight_tokens()
    assert shipped.shape == (signal_data.TEST_FLIGHTS, sg.LENGTH)
    first = signal_data.SPLIT_SEEDS["test"]
    for example in sg.example_flights():
        assert shipped[example["seed"] - first].tolist() == example["tokens"]
    for name in ("sigma", "base"):
        tiny().save_pretrained(tmp_path / name)
    parser = argparse.ArgumentParser()
    bench_signal.add_arguments(parser)
    flags = ["--sigma", str(tmp_path / "sigma"), "--baseline", str(tmp_path / "base"), "--n", "2", "--draws", "2"]
    flags += ["--speed-n", "0"]
    result = bench_signal.run(parser.parse_args([*flags, "--json"]))
    assert result["settings"]["flights"] == 2 and "exact" in result["forecast"]

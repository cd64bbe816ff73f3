"""Rows of a batch do not depend on each other: each draws from its own seed (sigma.draws), rows that
finish leave the batch, and rows in the same state share their passes without changing a sample."""

import pytest
import torch

from sigma import draws
from sigma.decoder import _distinct
from sigma.sampling import row_seeds, sample
from sigma.settings import SAMPLERS


def ragged_batch(B=4, T=12):
    """Rows with 1, 4, 8 and 12 unknown positions, so that they finish after different numbers of steps."""
    gen = torch.Generator().manual_seed(3)
    tokens = torch.randint(0, 11, (B, T), generator=gen)
    known = torch.ones(B, T, dtype=torch.bool)
    for row, unknown in enumerate((1, 4, 8, 12)[:B]):
        known[row, torch.randperm(T, generator=gen)[:unknown]] = False
    return tokens, known


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("order", ["random", "l2r"])
@pytest.mark.parametrize("window", ["auto", None, 2])
def test_batched_rows_leaving_early_match_one_row_at_a_time(small_model, sampler, order, window):
    """Row i of a batch seeded s gives what a batch of row i alone gives with seed s + i: tokens, calls and
    steps, however long the other rows run."""
    tokens, known = ragged_batch()
    settings = dict(sampler=sampler, order=order, temperature=0.8, window=window)
    together = sample(small_model, tokens, known, seed=20, **settings)
    assert len(set(together.steps.tolist())) > 1, "the rows should finish at different steps"
    for i in range(len(tokens)):
        alone = sample(small_model, tokens[i : i + 1], known[i : i + 1], seed=20 + i, **settings)
        assert torch.equal(alone.tokens[0], together.tokens[i]), (sampler, order, window, i)
        assert int(alone.model_calls[0]) == int(together.model_calls[i])
        assert int(alone.steps[0]) == int(together.steps[i])


def test_tries_of_one_input_are_the_single_runs_of_their_seeds(small_model):
    """N copies of one input (verified tries) share their known prefix and first query, and row i is still
    the single run with seed s + i; a list of seeds names each row's seed."""
    tokens, known = ragged_batch()
    tokens, known = tokens[2:3].expand(6, -1), known[2:3].expand(6, -1)
    together = sample(small_model, tokens, known, sampler="exact-confident", temperature=0.7, seed=[5, 9, 5, 1, 2, 3])
    assert torch.equal(together.tokens[0], together.tokens[2])  # same seed, same sample
    for i, s in enumerate([5, 9, 5, 1, 2, 3]):
        alone = sample(small_model, tokens[:1], known[:1], sampler="exact-confident", temperature=0.7, seed=s)
        assert torch.equal(alone.tokens[0], together.tokens[i])
    assert len({tuple(r) for r in together.tokens.tolist()}) > 1, "different seeds should differ somewhere"


def test_row_seeds_and_their_checks():
    assert row_seeds(7, 3, "cpu").tolist() == [7, 8, 9]
    assert row_seeds([4, 4], 2, "cpu").tolist() == [4, 4]
    with pytest.raises(ValueError, match="one per row"):
        row_seeds([1, 2, 3], 2, "cpu")


def test_draws_are_uniform_and_follow_the_distribution():
    """The keyed uniforms: mean 1/2 and variance 1/12 within 4 standard errors over 200 000 draws, nothing
    outside [0, 1); categorical draws match p within 4 standard errors and never pick a zero."""
    keys = draws.row_keys(torch.arange(1000), torch.zeros(1000, dtype=torch.long))
    u = draws.uniform(keys, draws.DRAFT, torch.arange(200).expand(1000, 200))
    n = u.numel()
    assert 0 <= float(u.min()) and float(u.max()) < 1
    assert abs(float(u.mean()) - 0.5) < 4 * (1 / 12 / n) ** 0.5
    assert abs(float(u.var()) - 1 / 12) < 4 * (1 / 180 / n) ** 0.5
    p = torch.tensor([0.5, 0.0, 0.2, 0.3])
    tok = draws.categorical(p.expand(n, 4), u.reshape(-1))
    freq = torch.bincount(tok, minlength=4).double() / n
    assert freq[1] == 0
    assert ((freq - p).abs() < 4 * (p * (1 - p) / n).sqrt() + 1e-9).all(), freq
    other = draws.uniform(keys, draws.ACCEPT, torch.arange(200).expand(1000, 200))
    assert abs(float(torch.corrcoef(torch.stack([u.reshape(-1), other.reshape(-1)]))[0, 1])) < 4 / n**0.5


def test_distinct_rows():
    rep, inverse = _distinct(torch.tensor([[1, 2], [3, 4], [1, 2]]))
    assert rep.tolist() == [0, 1] and inverse.tolist() == [0, 1, 0]
    assert _distinct(torch.tensor([[1], [2]])) == (None, None)

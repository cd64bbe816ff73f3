import pytest
import torch

from sigma.sampling import conditional_density, row_seeds, run_order, sample, stream
from sigma.settings import SAMPLERS


def batch(seed=0, B=3, T=12, p_known=0.3):
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, 11, (B, T), generator=gen)
    known = torch.rand(B, T, generator=gen) < p_known
    return tokens, known


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("order", ["random", "l2r", "fractal"])
@pytest.mark.parametrize("window", ["auto", None, 3])
def test_every_step_settles_and_known_tokens_stay(small_model, sampler, order, window):
    tokens, known = batch()
    events = list(stream(small_model, tokens, known, sampler=sampler, order=order, seed=1, window=window))
    assert events[-1].finished and events[-1].done.all()
    assert torch.equal(events[-1].tokens[known], tokens[known])
    done = known.sum(dim=1)
    for e in events:
        for rs in e.rows:
            settled = len(rs.accepted) + (rs.replacement_token is not None)
            assert settled >= 1, f"{sampler}: a step settled nothing"
            assert rs.accepted == rs.drafted[: len(rs.accepted)]
        stepped = [rs.row for rs in e.rows]
        assert (e.done.sum(dim=1)[stepped] > done[stepped]).all()
        done = e.done.sum(dim=1)


@pytest.mark.parametrize("sampler", ["exact", "exact-confident"])
@pytest.mark.parametrize("window", ["auto", None, 1])
def test_exact_needs_no_more_calls_than_tokens(small_model, sampler, window):
    tokens, known = batch(seed=2, B=6)
    out = sample(small_model, tokens, known, sampler=sampler, temperature=1.5, seed=3, window=window)
    generated = (~known).sum(dim=1)
    assert (out.model_calls <= generated).all(), (out.model_calls, generated)


def test_sequential_makes_one_call_per_token(small_model):
    tokens, known = batch(seed=4)
    out = sample(small_model, tokens, known, sampler="sequential", seed=0)
    assert torch.equal(out.model_calls, (~known).sum(dim=1))


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_seed_same_result(small_model, sampler):
    tokens, known = batch(seed=5)
    a = sample(small_model, tokens, known, sampler=sampler, seed=11)
    b = sample(small_model, tokens, known, sampler=sampler, seed=11)
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.model_calls, b.model_calls)


def test_rows_do_not_wait_for_each_other(small_model):
    """A row with one unknown token finishes in its first step while the others go on."""
    tokens, known = batch(seed=6, B=2)
    known[0] = True
    known[0, 3] = False
    known[1] = False
    events = list(stream(small_model, tokens, known, sampler="sequential", seed=0))
    assert [rs.row for rs in events[0].rows] == [0, 1] and events[0].rows[0].finished
    assert all(rs.row == 1 for e in events[1:] for rs in e.rows)
    assert int(events[-1].model_calls[0]) == 1


def test_greedy_is_deterministic_across_seeds(small_model):
    tokens, known = batch(seed=7)
    a = sample(small_model, tokens, known, sampler="exact", temperature=0.0, order="l2r", seed=1)
    b = sample(small_model, tokens, known, sampler="sequential", temperature=0.0, order="l2r", seed=2)
    assert torch.equal(a.tokens, b.tokens)


def test_nothing_to_fill_yields_one_final_event(small_model):
    tokens, _ = batch()
    events = list(stream(small_model, tokens, torch.ones_like(tokens, dtype=torch.bool)))
    assert len(events) == 1 and events[0].finished and torch.equal(events[0].tokens, tokens)


def test_conditional_density_rows_are_distributions(small_model):
    tokens, known = batch(seed=8)
    p = conditional_density(small_model, tokens, known)
    assert p.shape == (3, 12, 11)
    torch.testing.assert_close(p.sum(-1), torch.ones(3, 12))
    assert torch.equal(p[known].argmax(-1), tokens[known])


def test_bad_arguments_raise(small_model):
    tokens, known = batch()
    with pytest.raises(ValueError, match="unknown sampler 'fast'"):
        sample(small_model, tokens, known, sampler="fast")
    with pytest.raises(ValueError, match="unknown order 'zigzag'"):
        sample(small_model, tokens, known, order="zigzag")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        sample(small_model, tokens + 20, known)
    with pytest.raises(ValueError, match="known has shape"):
        sample(small_model, tokens, known[:, :5])
    with pytest.raises(ValueError, match="temperature"):
        sample(small_model, tokens, known, temperature=-1)


def test_confident_order_differs_from_the_plain_order_even_when_greedy(small_model):
    tokens, known = batch(seed=9, B=1, p_known=0.2)
    plain = next(iter(stream(small_model, tokens, known, sampler="exact", order="random", temperature=0.0)))
    sure = next(iter(stream(small_model, tokens, known, sampler="exact-confident", order="random", temperature=0.0)))
    assert plain.rows[0].drafted != sure.rows[0].drafted
    p = conditional_density(small_model, tokens, known, order="random")[0].max(-1).values
    first = sure.rows[0].drafted[0]
    assert p[first] == p[~known[0]].max()


def test_the_old_names_are_gone(small_model):
    """`method=` and the module paths before sigma/tasks/ went in this release (README, Changelog)."""
    import importlib

    tokens, known = torch.zeros(1, 12, dtype=torch.long), torch.zeros(1, 12, dtype=torch.bool)
    with pytest.raises(TypeError, match="method"):
        sample(small_model, tokens, known, method="sequential", seed=0)
    for old in ("sigma.maze", "sigma.text", "sigma.maze_families"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(old)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_tiny_temperature_is_greedy_not_an_error(small_model, sampler):
    tokens, known = torch.zeros(1, 12, dtype=torch.long), torch.zeros(1, 12, dtype=torch.bool)
    tiny = sample(small_model, tokens, known, sampler=sampler, order="l2r", temperature=1e-38, seed=0)
    greedy = sample(small_model, tokens, known, sampler=sampler, order="l2r", temperature=0.0, seed=0)
    assert torch.equal(tiny.tokens, greedy.tokens)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("window", ["auto", None])
@pytest.mark.parametrize("order", ["random", "l2r"])
def test_the_runs_log_likelihood_is_the_chain_rule_along_its_settle_order(small_model, sampler, window, order):
    """What a run adds up as it settles (the score verified tries rank by) equals a fresh `log_prob` pass along
    the order the run settled in, known positions first: the cached passes and the full pass agree to float
    error (1e-3 nats over at most 12 positions)."""
    tokens, known = batch(seed=4, B=4)
    out = sample(
        small_model,
        tokens,
        known,
        sampler=sampler,
        order=order,
        temperature=0.9,
        window=window,
        seed=2,
        keep_events=True,
    )
    settled = [[] for _ in range(len(tokens))]
    for event in out.events:
        for rs in event.rows:
            settled[rs.row] += rs.accepted + ([rs.rejected] if rs.replacement_token is not None else [])
    read = run_order(order, known, row_seeds(2, len(tokens), "cpu"))  # the known positions, as the run read them
    perm = torch.tensor([read[r, : int(known[r].sum())].tolist() + settled[r] for r in range(len(tokens))])
    expected = small_model.log_prob(out.tokens, order=perm, known=known)
    assert torch.allclose(out.log_likelihood.float(), expected, atol=1e-3), (out.log_likelihood, expected)


@pytest.mark.parametrize("order", ["random", "l2r"])
def test_a_windowed_burst_asks_only_for_the_positions_its_orders_verify(small_model, order):
    """With one draft per order and one order (l2r) the query of a step holds one position and the verify one
    slot: a slot per call, after the known prefix. With five random orders, at most five positions a query."""
    tokens, known = batch(seed=6, B=3)
    out = sample(small_model, tokens, known, sampler="burst", order=order, window=1, num_orders=5, seed=1)
    per_call = 1 if order == "l2r" else 5
    assert (out.tokens_processed <= known.sum(dim=1) + per_call * out.model_calls).all(), out.tokens_processed

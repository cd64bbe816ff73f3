import random

import pytest
import torch

from sigma.orders import Curriculum, fractal_ranks, make_order


def is_permutation(order: torch.Tensor) -> bool:
    return torch.equal(order.sort(dim=1).values, torch.arange(order.shape[1]).expand_as(order))


@pytest.mark.parametrize("name", ["random", "l2r", "r2l", "fractal", [3, 1, 0, 2, 5, 4, 7, 6, 9, 8]])
def test_each_position_once_known_first(name):
    known = torch.rand(4, 10, generator=torch.Generator().manual_seed(0)) < 0.4
    order = make_order(name, known, torch.Generator().manual_seed(1))
    assert is_permutation(order)
    for b in range(4):
        k = int(known[b].sum())
        assert known[b, order[b, :k]].all() and not known[b, order[b, k:]].any()


def test_named_orders():
    none = torch.zeros(1, 6, dtype=torch.bool)
    assert make_order("l2r", none).tolist() == [[0, 1, 2, 3, 4, 5]]
    assert make_order("r2l", none).tolist() == [[5, 4, 3, 2, 1, 0]]
    known = torch.tensor([[False, False, False, True, False, False]])
    assert make_order("l2r", known).tolist() == [[3, 0, 1, 2, 4, 5]]


def test_fractal_is_deterministic_middle_first():
    ranks = fractal_ranks(7)
    visit = sorted(range(7), key=lambda p: ranks[p])
    assert visit == [3, 1, 5, 0, 2, 4, 6]
    none = torch.zeros(2, 7, dtype=torch.bool)
    assert torch.equal(make_order("fractal", none), make_order("fractal", none))
    assert make_order("fractal", none)[0].tolist() == visit


def test_random_orders_differ_per_row_and_follow_the_seed():
    none = torch.zeros(8, 12, dtype=torch.bool)
    a = make_order("random", none, torch.Generator().manual_seed(3))
    b = make_order("random", none, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert len({tuple(r) for r in a.tolist()}) > 1


def test_bad_orders_raise():
    none = torch.zeros(1, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match="unknown order 'zigzag'"):
        make_order("zigzag", none)
    with pytest.raises(ValueError, match="permutation"):
        make_order([0, 0, 1, 2], none)


def test_curriculum_rises_from_l2r_to_random():
    c = Curriculum(start=100, end=200)
    assert c.p_random(0) == 0.0 and c.p_random(150) == 0.5 and c.p_random(200) == 1.0
    rng = random.Random(0)
    early = [c.order_at(50, rng) for _ in range(100)]
    late = [c.order_at(250, rng) for _ in range(100)]
    mid = [c.order_at(150, rng) for _ in range(1000)]
    assert set(early) == {"l2r"} and set(late) == {"random"}
    assert 400 < mid.count("random") < 600  # binomial(1000, 0.5): ±100 is more than 6 standard deviations


def test_curriculum_can_stop_short_of_all_random():
    c = Curriculum(start=0, end=100, share=0.8)
    assert c.p_random(50) == 0.4 and c.p_random(100) == 0.8 and c.p_random(10_000) == 0.8

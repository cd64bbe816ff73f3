"""The draft window's cost model."""

import torch

from sigma.window import MAX_WINDOW, Proposals, choose_window, expected_tokens


def test_expected_tokens_is_the_geometric_sum():
    assert torch.allclose(expected_tokens(torch.tensor([0.5]), torch.tensor([2])), torch.tensor([1.75]))
    assert torch.allclose(expected_tokens(torch.tensor([0.0]), torch.tensor([5])), torch.tensor([1.0]))


def test_window_grows_with_acceptance_and_respects_its_caps():
    alpha = torch.tensor([0.3, 0.8, 0.95, 0.999])
    room = torch.full((4,), MAX_WINDOW)
    k = choose_window(alpha, room, call_cost=20.0)
    assert k.tolist() == sorted(k.tolist()) and k[0] < k[-1]
    assert (choose_window(alpha, torch.tensor([0, 3, 3, 3]), call_cost=20.0) <= torch.tensor([0, 3, 3, 3])).all()
    assert (choose_window(alpha, room, call_cost=20.0, limit=2) <= 2).all()
    cheap = choose_window(alpha, room, call_cost=1.0)  # cheap calls: verifying far ahead does not pay
    assert (cheap <= k).all()


def test_acceptance_history_moves_alpha():
    props = Proposals(batch=2, length=4, vocab=3, device="cpu")
    rows = torch.tensor([0, 1])
    before = props.alpha(rows)
    props.record(rows, accepted=torch.tensor([0, 5]), judged=torch.tensor([5, 5]))
    after = props.alpha(rows)
    assert after[0] < before[0] and after[1] > after[0]

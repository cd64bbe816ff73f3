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


def test_a_checkpoints_measured_call_cost_travels_with_it_and_sets_the_window(tmp_path):
    """SigmaConfig.call_cost_slots (written by `python -m train.bench cost --write`) survives save and load, and
    a dearer call makes the window verify more drafts per call, so fewer calls (never a different sampler)."""
    from sigma import SigmaConfig, SigmaGPT
    from sigma.sampling import sample

    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=3, block_size=48, n_layer=1, n_head=2, n_embd=16)).eval()
    model.config.call_cost_slots = 500.0
    model.save_pretrained(tmp_path / "m")
    loaded = SigmaGPT.from_pretrained(tmp_path / "m")
    assert loaded.config.call_cost_slots == 500.0
    x = torch.zeros(1, 48, dtype=torch.long)
    k = torch.zeros_like(x, dtype=torch.bool)
    dear = sample(loaded, x, k, sampler="exact", temperature=1.0, seed=0)
    loaded.config.call_cost_slots = 1.0
    cheap = sample(loaded, x, k, sampler="exact", temperature=1.0, seed=0)
    assert int(dear.model_calls[0]) < int(cheap.model_calls[0])

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT


def test_save_load_round_trip(tmp_path, small_model):
    small_model.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").exists() and (tmp_path / "model.safetensors").exists()
    loaded = SigmaGPT.from_pretrained(tmp_path).eval()
    assert loaded.config == small_model.config
    tokens = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(loaded.log_prob(tokens), small_model.log_prob(tokens))


def test_half_precision_weights_load_into_float32(tmp_path):
    model = SigmaGPT(SigmaConfig(vocab_size=7, block_size=6, n_layer=1, n_head=2, n_embd=16, grid=(1, 2, 3)))
    model.half().save_pretrained(tmp_path)
    loaded = SigmaGPT.from_pretrained(tmp_path)
    assert loaded.head.weight.dtype == torch.float32 and loaded.config.grid == (1, 2, 3)


@pytest.mark.parametrize("pos_encoding,grid", [("learned", None), ("sinusoidal", None), ("learned", (2, 2, 3))])
def test_log_prob_is_a_distribution_for_every_encoding(pos_encoding, grid):
    """Summed over all sequences, exp(log_prob) must be 1 along any fixed order."""
    import itertools

    torch.manual_seed(0)
    model = SigmaGPT(
        SigmaConfig(
            vocab_size=2,
            block_size=12 if grid else 5,
            n_layer=1,
            n_head=2,
            n_embd=16,
            pos_encoding=pos_encoding,
            grid=grid,
        )
    )
    T = model.config.block_size
    if T > 5:  # enumerate only the last 5 positions; the others are known
        known = torch.zeros(1, T, dtype=torch.bool)
        known[:, : T - 5] = True
        free = torch.tensor(list(itertools.product(range(2), repeat=5)))
        tokens = torch.cat([torch.zeros(len(free), T - 5, dtype=torch.long), free], dim=1)
        total = model.log_prob(tokens, order="fractal", known=known.expand(len(free), T)).exp().sum()
    else:
        tokens = torch.tensor(list(itertools.product(range(2), repeat=T)))
        total = model.log_prob(tokens, order="fractal").exp().sum()
    torch.testing.assert_close(total, torch.tensor(1.0))


def test_log_prob_is_differentiable(small_model):
    tokens = torch.randint(0, 11, (2, 12))
    small_model.train()
    (-small_model.log_prob(tokens, order="random").mean()).backward()
    assert small_model.tok_emb.weight.grad is not None


def test_bad_tokens_raise(small_model):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        small_model.log_prob(torch.tensor([[0, 11]]))
    with pytest.raises(ValueError, match="exceeds the model's block_size 12"):
        small_model.log_prob(torch.zeros(1, 13, dtype=torch.long))
    with pytest.raises(ValueError, match="shape"):
        small_model.log_prob(torch.zeros(1, 2, 3, dtype=torch.long))


def test_bad_config_raises():
    with pytest.raises(ValueError, match="grid"):
        SigmaConfig(block_size=10, grid=(1, 3, 3))
    with pytest.raises(ValueError, match="pos_encoding"):
        SigmaConfig(pos_encoding="rotary")


def _truncate(tensors, folder):
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:99])


def _misspell_config(tensors, folder):
    (folder / "config.json").write_text('{"vocab_size": 6, "n_lyer": 2}')


@pytest.mark.parametrize(
    "change,says",
    [
        (lambda t, f: {"head.weight": t["head.weight"]}, "Missing key"),  # one tensor of many
        (lambda t, f: {"x." + k: v for k, v in t.items()}, "Missing key"),  # every tensor renamed
        (lambda t, f: {**t, "surplus": torch.zeros(2)}, "Unexpected key"),
        (lambda t, f: {**t, "head.weight": torch.zeros(6, 4)}, "size mismatch"),
        (_truncate, "(?i)header|incomplete|deserializ|invalid"),
        (_misspell_config, "n_lyer"),
    ],
)
def test_broken_checkpoints_fail_loudly(tmp_path, change, says):
    """Loading is strict: no checkpoint loads into a model that keeps some of its random weights."""
    from safetensors.torch import load_file, save_file

    SigmaGPT(SigmaConfig(vocab_size=6, block_size=8, n_layer=1, n_head=2, n_embd=16)).save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    changed = change(load_file(str(weights)), tmp_path)
    if changed is not None:
        save_file(changed, str(weights))
    with pytest.raises(Exception, match=says):
        SigmaGPT.from_pretrained(tmp_path)

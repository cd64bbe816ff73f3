import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from sigma import SigmaConfig, SigmaGPT  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def small_model() -> SigmaGPT:
    """An untrained model with non-trivial weights: enough for equalities that hold for any weights."""
    torch.manual_seed(0)
    model = SigmaGPT(SigmaConfig(vocab_size=11, block_size=12, n_layer=2, n_head=2, n_embd=32))
    with torch.no_grad():  # larger weights than the init, so attention patterns are far from uniform
        for p in model.parameters():
            p.mul_(8.0 if p.dim() > 1 else 1.0)
    return model.eval()

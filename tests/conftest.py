import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("SIGMA_RUNS_PER_CLIENT", "1000")  # every test client is 127.0.0.1; the cap has its own tests

import pytest
import torch

from sigma import SigmaConfig, SigmaGPT

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


@pytest.fixture(scope="session")
def studio_url(tmp_path_factory) -> str:
    """The app, served in this process on a free port with tiny random-weight maze and text models, so that
    app tests exercise the real engine without depending on the shipped checkpoints being good."""
    import socket

    from sigma.tasks import text as tx
    from views.models import MAZE, TEXT

    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    maze_cfg = SigmaConfig(vocab_size=6, block_size=162, n_layer=1, n_head=2, n_embd=32, grid=(2, 9, 9))
    text_cfg = SigmaConfig(vocab_size=tx.get_encoding().n_vocab, block_size=128, n_layer=1, n_head=2, n_embd=32)
    for name, cfg, slot in (("maze", maze_cfg, MAZE), ("text", text_cfg, TEXT)):
        SigmaGPT(cfg).save_pretrained(root / name)
        os.environ[slot.env_var] = str(root / name)
        slot.reload()
    import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app.build()
    app.launch(demo, prevent_thread_lock=True, quiet=True, server_port=port)
    yield f"http://127.0.0.1:{port}/"
    demo.close()

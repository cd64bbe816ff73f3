"""The Space folder: `python -m tools.space` writes what a Hugging Face Space needs, and the app boots from that
folder alone, offline, with the checkpoints it ships (HTTP 200, one API call answered)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from tools import space


def test_the_space_folder_holds_what_a_space_needs_and_boots_offline(tmp_path):
    out = tmp_path / "space"
    files = {str(p.relative_to(out)) for p in space.build(out)}
    assert {"app.py", "requirements.txt", ".gitattributes", "README.md"} <= files
    weights = sorted(f for f in files if f.endswith(".safetensors"))
    assert weights == [f"{folder}/model.safetensors" for folder in sorted(space.loaded_checkpoints())]
    assert "filter=lfs" in (out / ".gitattributes").read_text()
    requirements = (out / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements and "torch==2.13.0" in requirements
    head = (out / "README.md").read_text().split("---")[1]
    assert "sdk: gradio" in head and "sdk_version:" in head and "python_version:" in head and "app_file: app.py" in head
    assert not any(f.startswith(("tests/", "train/", "tools/")) for f in files)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGMA_", "PYTHONPATH"))}
    env |= {"GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen(
        [sys.executable, "app.py"], cwd=out, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the app did not answer within 120 s"
                time.sleep(1)
        from gradio_client import Client

        from sigma.tasks import maze as mz

        result = Client(url, verbose=False).predict("maze", mz.examples()[0], 2, api_name="/density")
        assert len(result["positions"]) == 81 and all(len(p["top"]) == 2 for p in result["positions"])
    finally:
        server.terminate()
        server.wait(timeout=30)

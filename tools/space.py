"""`python -m tools.space OUT_DIR`: a folder that `git push`es to a Hugging Face Space as it is.

It holds the app and the engine, only the checkpoints the app loads, requirements that install PyTorch's CPU
build (a CPU Space would otherwise pull the CUDA build, gigabytes), `.gitattributes` that keeps the weights in
Git LFS (the Hub refuses files over 10 MiB pushed without it), and a README whose front matter names the SDK,
its version (the Gradio this was built with), the Python version and the app file.

Then: `cd OUT_DIR && git init && git lfs install && git add . && git commit -m "σ-GPT studio" &&
git remote add space https://huggingface.co/spaces/USER/NAME && git push space main`.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import gradio

ROOT = Path(__file__).resolve().parent.parent
CODE = ("app.py", "sigma", "views", "assets")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
GITATTRIBUTES = "*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.gif filter=lfs diff=lfs merge=lfs -text\n"


def loaded_checkpoints() -> list[str]:
    """The checkpoint folders the app loads by default: one per task (views.models.SLOTS)."""
    from views.models import SLOTS

    return [slot.default for slot in SLOTS.values()]


def requirements() -> str:
    """The runtime requirements less Gradio (the Space installs its sdk_version), with the CPU wheel index."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    keep = [line for line in lines if line.strip() and not re.match(r"(#|gradio\b)", line.strip())]
    return f"--extra-index-url {TORCH_CPU_INDEX}\n" + "\n".join(keep) + "\n"


def front_matter() -> str:
    """The project README's front matter with the SDK version and Python version the Space needs."""
    text = (ROOT / "README.md").read_text()
    head = text.split("---", 2)[1].strip().splitlines()
    head = [line for line in head if not line.startswith(("sdk_version:", "python_version:"))]
    head += [f"sdk_version: {gradio.__version__}", f'python_version: "{PYTHON_VERSION}"']
    return "---\n" + "\n".join(head) + "\n---\n"


def readme() -> str:
    return front_matter() + (
        "\n# σ-GPT studio\n\nFix any tokens of a maze, a passage or a flight profile and watch σ-GPT, the any-order "
        "autoregressive transformer, fill in the rest out of order, several tokens per model call. Runs on the "
        "CPU; nothing is downloaded at run time. Source, engine, training and measurements: the project "
        "repository this Space was built from (`python -m tools.space`).\n"
    )


def build(out: str | Path) -> list[Path]:
    """Write the Space folder (refusing a non-empty one); returns the files written."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty: give a new folder")
    out.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=ignore)
        else:
            shutil.copy2(source, out / name)
    for folder in loaded_checkpoints():
        shutil.copytree(ROOT / folder, out / folder, ignore=ignore)
    (out / "requirements.txt").write_text(requirements())
    (out / ".gitattributes").write_text(GITATTRIBUTES)
    (out / "README.md").write_text(readme())
    return sorted(p for p in out.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.space", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="a new folder for the Space")
    args = parser.parse_args(argv)
    files = build(args.out)
    total = sum(p.stat().st_size for p in files)
    for path in files:
        if path.suffix in (".safetensors", ".txt", ".md") or path.name in ("app.py", ".gitattributes"):
            print(f"{path.stat().st_size / 1e6:8.2f} MB  {path.relative_to(args.out)}")
    print(f"{len(files)} files, {total / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()

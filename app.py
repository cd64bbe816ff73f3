"""σ-GPT studio: the web demo. Layout and wiring only; the engine lives in `sigma/`."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

INTRO = """
# σ-GPT studio
Any-order autoregressive generation: fix any tokens, and let σ-GPT fill in the rest out of order,
several tokens per model call. The maze and text tabs arrive with their checkpoints; the engine
(`sigma/`) and its samplers are ready to use from Python (see README).
"""


def build() -> gr.Blocks:
    with gr.Blocks(title="σ-GPT studio") as demo:
        gr.Markdown(INTRO)
    return demo


if __name__ == "__main__":
    build().queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )

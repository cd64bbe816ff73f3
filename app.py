"""σ-GPT studio: the web demo. This file is the page's table of contents: one block per tab, the named API,
and the launch. Each tab lays itself out and wires its events (views/*_tab.py); handlers and drawing live in
views/, the engine in sigma/, styles and the click scripts in assets/."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import logging

import gradio as gr
from starlette.middleware import Middleware

from sigma.tasks import all_tasks
from views import about, api, limits, maze_tab, signal_tab, text_tab
from views.handlers import banners
from views.layout import ASSETS, CONCURRENCY
from views.models import load_all
from views.outputs import api_guard

INTRO = "# σ-GPT studio\nFix any tokens and watch σ-GPT fill in the rest out of order, several per model call."
TABS = (("Maze", maze_tab), ("Text", text_tab), ("Signal", signal_tab))


def build() -> gr.Blocks:
    load_all()
    with gr.Blocks(title="σ-GPT studio") as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            tab_banners = []
            for title, tab in TABS:
                with gr.Tab(title, id=tab.VIEW.task.name):
                    tab_banners.append(tab.build(demo))
            with gr.Tab("About", id="about"):
                gr.Markdown(about.ABOUT)
                gr.HTML(f'<div class="figure">{(ASSETS / "sigma.svg").read_text()}</div>')
        names = [tab.VIEW.task.name for _, tab in TABS]
        demo.load(banners(*names), None, tab_banners, api_visibility="undocumented")  # missing checkpoints

        # the named API: /solve_maze, /fill_text, /fill_signal, /spread_signal, /compare, /density
        model_api = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY}
        for task in all_tasks().values():
            gr.api(api_guard(api.endpoint(task)), api_name=f"{task.verb}_{task.name}", **model_api)
        for _, tab in TABS:
            for extra in tab.VIEW.endpoints:  # /spread_signal
                gr.api(api_guard(extra), api_name=extra.__name__, **model_api)
        gr.api(api_guard(api.compare), api_name="compare", **model_api)
        gr.api(api_guard(api.density), api_name="density", **model_api)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """Queue and serve with the limits a shared Space needs: the door (views/limits.py: who the client is,
    bodies over 64 KB, deep JSON, uploads and slow headers refused) and the gate on the queue (views/gate.py:
    every queued event priced and paid from its client's budget, at most two runs waiting per client, the model
    slots served round-robin with one kept for small runs, unread runs dropped). `/run/` is closed: every call
    goes through the queue.
    Theme, CSS and head go to launch() in Gradio 6."""
    from views import gate  # (imported here: the rest of this file is the page's layout)

    os.environ["FORWARDED_ALLOW_IPS"] = ""  # the server must not rewrite the peer: limits.client_of decides
    trusted, streams = limits.trusted_proxies(), limits.Streams()
    limits.header_deadline()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=None, api_open=False)  # the gate bounds it
    gate.from_environ(os.environ, streams, trusted).install(demo)
    options = {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "theme": gr.themes.Soft(),
        "css_paths": [ASSETS / "studio.css"],
        "app_kwargs": {"middleware": [Middleware(limits.Limits, trusted=trusted, streams=streams)]},
        "state_session_capacity": 200,  # sessions whose inputs Gradio keeps (every API call is a session)
        "max_file_size": "64kb",  # the app takes no files (uploads are refused at the door)
    }
    return demo.launch(**(options | kwargs))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(build())

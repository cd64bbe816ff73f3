"""A race: one input, one seed, one order and temperature under several samplers, side by side on a shared
clock of model calls, so that what a sampler buys (tokens per call) and what it costs (exactness, quality)
can be read off one picture.

The model work is done first, lane by lane; the page then replays the lanes on the clock (a lane stands
still once it has finished).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import Any

import torch

from sigma.model import SigmaGPT
from sigma.settings import SAMPLERS, Settings
from sigma.task import Task, Verdict
from views.runs import Frame, start
from views.view import TaskView


@dataclass
class Lane:
    sampler: str
    frames: list[Frame]
    verdict: Verdict
    log_likelihood: float  # nats of the filled positions given the known ones, by the model's l2r chain rule

    def at(self, calls: int) -> Frame:
        """The lane's frame once `calls` model calls have been spent (its last frame after it finished)."""
        seen = [f for f in self.frames if f.model_calls <= calls]
        return seen[-1] if seen else self.frames[0]

    def figures(self) -> dict[str, Any]:
        last = self.frames[-1]
        calls = max(1, last.model_calls)
        return {
            "sampler": self.sampler,
            "steps": last.step,
            "model_calls": last.model_calls,
            "tokens": last.tokens_done,
            "tokens_per_call": round(last.tokens_done / calls, 2),
            "model_ms": round(last.seconds * 1000, 1),
            "tokens_per_second": round(last.tokens_done / max(last.seconds, 1e-6), 1),
            "log_likelihood": round(self.log_likelihood, 3),
            **({"tries_valid": f"{last.tries.n_valid}/{len(last.tries.valid)}"} if last.tries else {}),
        }


def race(task: Task, model: SigmaGPT, source: Any, settings: Settings, samplers: list[str]) -> tuple[Any, list[Lane]]:
    """Run every sampler on the same input and settings; the parsed value and one lane per sampler. A race
    compares the samplers, so no lane retries with another (`Settings.retry`)."""
    if samplers is not None and not list(samplers):
        raise ValueError("No sampler is chosen: choose at least one to race.")
    samplers = list(dict.fromkeys(samplers or SAMPLERS))
    unknown = [s for s in samplers if s not in SAMPLERS]
    if unknown:
        raise ValueError(f"unknown sampler {str(unknown[0])[:40]!r}: use some of {', '.join(SAMPLERS)}")
    lanes, value = [], None
    for sampler in samplers:
        value, run_frames = start(task, model, source, replace(settings, sampler=sampler, retry=None))
        frames = list(run_frames)
        tokens = frames[-1].tokens
        lanes.append(Lane(sampler, frames, task.verdict(value, tokens), _log_likelihood(model, task, value, tokens)))
    return value, lanes


@torch.inference_mode()
def _log_likelihood(model: SigmaGPT, task: Task, value: Any, tokens: list[int]) -> float:
    _, known = task.encode(value)
    x = torch.tensor([tokens], device=model.device)
    return float(model.log_prob(x, order="l2r", known=known[None].to(model.device))[0])


def clock(lanes: list[Lane]) -> list[int]:
    """The model-call counts at which some lane moves: the ticks of the shared clock."""
    return sorted({f.model_calls for lane in lanes for f in lane.frames})


def race_html(view: TaskView, value: Any, lanes: list[Lane], calls: int) -> str:
    """Every lane at `calls` model calls: its drawing and live counters; a verdict once it has finished."""
    panels = []
    for lane in lanes:
        frame = lane.at(calls)
        f = lane.figures()
        per_call = frame.tokens_done / max(1, frame.model_calls)
        rate = frame.tokens_done / max(frame.seconds, 1e-6)
        counters = (
            f"step {frame.step} · <b>{frame.model_calls}</b> calls · {frame.tokens_done}/{frame.to_fill} tokens · "
            f"{per_call:.2f} tokens/call · {frame.seconds * 1000:.0f} ms · {rate:.0f} tokens/s"
        )
        said = ""
        if frame.finished:
            tone = lane.verdict.tone
            said = (
                f'<div class="msg {tone}">{html.escape(lane.verdict.sentence)} '
                f"(Log-likelihood {f['log_likelihood']:.1f} nats.)</div>"
            )
        title = html.escape(lane.sampler) + (" · finished" if frame.finished else "")  # ✓ means valid elsewhere
        panels.append(
            f'<div class="lane"><div class="lane-title">{title}</div>{view.draw(value, frame)}'
            f'<div class="lane-counters">{counters}</div>{said}</div>'
        )
    return f'<div class="race" style="--lanes:{len(lanes)}">{"".join(panels)}</div>'

"""The small HTML pieces around a run: the step counter line, plain messages, the colour legend, the tries strip."""

from __future__ import annotations

import html

from sigma.tries import Tries
from views.runs import Frame


def sentence(text: str) -> str:
    """The text starting with a capital, whatever wrote it (the engine's errors start lower case, as Python's do)."""
    return text[:1].upper() + text[1:]


def message(text: str, tone: str = "info") -> str:
    """A plain sentence in a coloured box; tone is info, good, fair or bad."""
    return f'<div class="msg {tone}">{html.escape(sentence(text))}</div>' if text else ""


def progress(frame: Frame, verdict: str = "", tone: str = "info") -> str:
    """Step, model calls against what one-token-at-a-time decoding would need, and the outcome once done."""
    n = frame.to_fill
    share = 100 * frame.tokens_done / n if n else 100
    line = (
        f'<div class="progress"><b>Step {frame.step}</b> · {frame.tokens_done}/{n} tokens · '
        f"<b>{frame.model_calls}</b> model call{'s' * (frame.model_calls != 1)} (one at a time: {n}) · "
        f"{frame.seconds * 1000:.0f} ms of model work"
        f'<div class="bar"><div style="width:{share:.0f}%"></div></div></div>'
    )
    return line + (message(verdict, tone) if frame.finished and verdict else "")


def step_colour(frame: Frame, p: int) -> str | None:
    """The order map's colour of position p: the first step pale yellow, the last mid blue; None for a
    position the run did not sample (or has not yet)."""
    steps = frame.settled_step
    if p >= len(steps) or steps[p] is None:
        return None
    last = max(s for s in steps if s is not None)
    t = (steps[p] - 1) / max(1, last - 1)
    return f"hsl({50 + 170 * t:.0f}, 85%, {86 - 16 * t:.0f}%)"  # light enough for dark text at every step


def order_key(frame: Frame) -> str:
    """The order map's key: a gradient from step 1 to the last step."""
    last = max((s for s in frame.settled_step if s is not None), default=0)
    if not last:
        return '<div class="order-key">Nothing has settled yet: the order map colours what each step settles.</div>'
    return (
        '<div class="order-key">settled at step 1 <span class="order-ramp"></span> '
        f"step {last} (hover a cell or token for its step and rank)</div>"
    )


RUN_ITEMS = [
    ("drafted", "drafted this step from the one-pass marginals, not yet checked"),
    ("accepted", "draft accepted this step"),
    ("rejected", "draft rejected this step (it flashes)"),
    ("replaced", "resampled at the rejection (exact samplers)"),
]


def legend(items: list[tuple[str, str]]) -> str:
    """A tab's colour key (`TaskView.legend`): what its cells or tokens look like in each state of a run, as
    (swatch class, words) pairs."""
    keys = "".join(
        f'<span class="key"><span class="swatch {cls}"></span>{html.escape(text)}</span>' for cls, text in items
    )
    return f'<div class="legend">{keys}</div>'


def tries_strip(tries: Tries, bodies: list[str]) -> str:
    """Every try of a run, each drawn by its task (`bodies`, HTML): valid ones ticked, the one shown outlined; a
    retry's batch starts on a line of its own, saying how it was drawn."""
    figures = []
    for i, (body, ok) in enumerate(zip(bodies, tries.valid, strict=True)):
        if tries.first_batch and i == tries.first_batch:
            figures.append(f'<div class="retry">then, retried ({html.escape(tries.retried_with)}):</div>')
        said, tick = ("valid", "✓") if ok else ("not valid", "✗")
        chosen = " chosen" if i == tries.chosen else ""
        title = f"try {i + 1}: {said}, {tries.log_likelihood[i]:.2f} nats" + (" (shown)" if chosen else "")
        figures.append(
            f'<figure class="try{chosen} {"ok" if ok else "no"}" title="{title}">'
            f"{body}<figcaption>{i + 1} {tick}</figcaption></figure>"
        )
    return f'<div class="tries" aria-label="{html.escape(tries.summary())}">{"".join(figures)}</div>'

"""Samplers that complete the unknown positions of a batch, as generators of step events.

- sequential: one position per model call, in the chosen order (the baseline).
- burst: the σ-GPT paper's token-based rejection sampler. Draft every unknown position from the
  one-pass marginals p, verify the drafts along `num_orders` orders in one batched pass (q), accept
  along each order while u < q/p, keep the order that accepts most. Not exact: it picks the order
  after seeing q, and a rejection throws the position back without correcting for it.
- exact: any-subset speculative decoding. One order per step; accept while u < min(1, q/p); at the
  first rejection resample from normalise(max(q - p, 0)). Samples follow the model's chain-rule
  joint along the order exactly, and every step settles at least two tokens per two model calls.
- exact-confident: exact, with each step's order sorted by the model's confidence (the max of each
  untempered marginal), which never looks at the drafted values, so exactness is kept.

The draft window (`window="auto"`, the default; see sigma.window): burst and exact verify only the
first k drafts of a step's order, k chosen from proposals and past acceptance, never from this
step's drafts. Windowed exact steps are one model call each: the call verifies the window, settles
one more token from the slot after it, and asks for the next positions' proposals. `window=None`
runs the unwindowed samplers (a query pass and a verify pass over every remaining position).

What exact means: with an order fixed before sampling (l2r, fractal, random drawn up front, an
explicit list) samples follow the model's chain-rule joint along that order. exact-confident picks
the order while sampling, from proposals only; then each settled token is drawn from the model's
conditional given the tokens settled before it, in the order they were settled. A σ-GPT's
conditionals need not agree across orders, so such samples follow no single order's joint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from torch import Tensor

from sigma import draws
from sigma.decoder import Decoder
from sigma.events import RowStep, SampleResult, StepEvent
from sigma.model import SigmaGPT, check_tokens
from sigma.orders import ORDER_NAMES, make_order
from sigma.settings import SAMPLERS
from sigma.steps import SamplerRun, probabilities
from sigma.window import MAX_WINDOW

__all__ = ["RowStep", "SampleResult", "StepEvent", "conditional_density", "probabilities", "sample", "stream"]


def _check_args(model: SigmaGPT, tokens, known, sampler: str, order, temperature: float, num_orders: int, window):
    tokens = check_tokens(tokens, model.config)
    if not isinstance(known, Tensor):
        raise ValueError(f"known must be a BoolTensor [B, T], got {type(known).__name__}")
    known = known[None] if known.dim() == 1 else known
    if known.shape != tokens.shape:
        raise ValueError(f"known has shape {tuple(known.shape)} but tokens has shape {tuple(tokens.shape)}")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")
    if isinstance(order, str) and order not in ORDER_NAMES:
        raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDER_NAMES)} or an explicit list")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if num_orders < 1:
        raise ValueError(f"num_orders must be >= 1, got {num_orders}")
    if not (window is None or window == "auto" or (isinstance(window, int) and 1 <= window <= MAX_WINDOW)):
        raise ValueError(f'window must be "auto", None or a number of drafts from 1 to {MAX_WINDOW}, got {window!r}')
    device = model.device
    return tokens.to(device), known.to(device=device, dtype=torch.bool)


def row_seeds(seed: int | list[int] | Tensor, batch: int, device) -> Tensor:
    """Each row's own seed [B]: seed + i for row i of an int seed, or one per row as given.

    row_seeds(7, 3, "cpu") -> tensor([7, 8, 9])"""
    if isinstance(seed, int | float) and not isinstance(seed, bool):
        return torch.arange(batch, device=device) + int(seed)
    seeds = torch.as_tensor(seed, device=device).long().reshape(-1)
    if len(seeds) != batch:
        raise ValueError(f"seed: give one int, or one per row ({batch}), not {len(seeds)}")
    return seeds


def run_order(order: str | Tensor | list, known: Tensor, seeds: Tensor) -> Tensor:
    """The order [B, T] a run reads and writes each row in, known positions first. "random" shuffles each
    row's unknown positions by its own seed and reads the known ones in one shuffle shared by all rows
    and seeds (sigma.draws.order_key), so that rows with the same known tokens share their prefix."""
    if isinstance(order, str) and order == "random":
        key = draws.order_key(seeds, known) + (~known).double() * 2  # keys lie in [0, 1): unknown ones after
        return key.argsort(dim=1, stable=True)
    return make_order(order, known)


def check_forbid(forbid: Tensor | None, tokens: Tensor, model: SigmaGPT) -> Tensor | None:
    """A forbid mask that broadcasts to [B, T, V] and leaves every position at least one token."""
    if forbid is None:
        return None
    B, T = tokens.shape
    shape = (B, T, model.config.vocab_size)
    if not isinstance(forbid, Tensor) or forbid.dtype != torch.bool:
        raise ValueError("forbid must be a bool tensor that broadcasts to [B, T, vocab_size]")
    try:
        full = forbid.expand(shape)
    except RuntimeError:
        raise ValueError(f"forbid of shape {tuple(forbid.shape)} does not broadcast to {shape}") from None
    if full.all(dim=-1).any():
        raise ValueError("forbid leaves a position with no token it may take")
    return forbid


@torch.inference_mode()
def stream(
    model: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    *,
    sampler: str = "exact",
    order: str | Tensor | list = "random",
    temperature: float = 1.0,
    num_orders: int = 5,
    seed: int | list[int] | Tensor = 0,
    window: int | str | None = "auto",
    forbid: Tensor | None = None,
) -> Iterator[StepEvent]:
    """Complete the unknown positions of tokens [B, T] (known [B, T] marks the fixed ones), yielding one
    event per model step; the last event has finished=True and the completed tokens.

    `window` (burst, exact, exact-confident): "auto" verifies as many drafts per step as pay for their
    cost (see sigma.window), an int at most that many, None every remaining position (two passes per
    step, the unwindowed samplers). `forbid` (bool, broadcast to [B, T, V]) marks tokens that may not be
    written at a position: every sampler then draws from the model's distribution renormalised over the
    rest, exactly.

    `seed`: row i draws from seed + i (or from seed[i], one per row), and from nothing else, so a row's
    samples are the same in any batch as alone: row i of a batch with seed s equals a batch of one with
    seed s + i (sigma.draws)."""
    tokens, known = _check_args(model, tokens, known, sampler, order, temperature, num_orders, window)
    seeds = row_seeds(seed, len(tokens), model.device)
    dec = Decoder(model, tokens, known, run_order(order, known, seeds), check_forbid(forbid, tokens, model))
    run = SamplerRun(dec, sampler, order, temperature, num_orders, seeds, window)
    step = 0
    rows = dec.active_rows()
    while True:
        row_steps = run.step(rows) if len(rows) else []
        rows = dec.active_rows()
        yield StepEvent(
            step=step,
            rows=row_steps,
            tokens=dec.tokens.clone(),
            done=dec.done.clone(),
            model_calls=dec.model_calls.clone(),
            tokens_processed=dec.processed.clone(),
            log_likelihood=run.log_likelihood.clone(),
            finished=len(rows) == 0,
        )
        if len(rows) == 0:
            return
        step += 1


def sample(
    model: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    *,
    sampler: str = "exact",
    order: str | Tensor | list = "random",
    temperature: float = 1.0,
    num_orders: int = 5,
    seed: int | list[int] | Tensor = 0,
    keep_events: bool = False,
    window: int | str | None = "auto",
    forbid: Tensor | None = None,
) -> SampleResult:
    """Run `stream` to the end and return the completed tokens with per-row counts."""
    start = time.perf_counter()
    events, steps, last = [], None, None
    settings = {"sampler": sampler, "order": order, "temperature": temperature}
    more = {"num_orders": num_orders, "seed": seed, "window": window, "forbid": forbid}
    for event in stream(model, tokens, known, **settings, **more):
        if steps is None:
            steps = torch.zeros_like(event.model_calls)
        for rs in event.rows:
            steps[rs.row] += 1
        if keep_events:
            events.append(event)
        last = event
    return SampleResult(
        tokens=last.tokens,
        model_calls=last.model_calls,
        steps=steps,
        tokens_processed=last.tokens_processed,
        log_likelihood=last.log_likelihood,
        seconds=time.perf_counter() - start,
        events=events,
    )


@torch.inference_mode()
def conditional_density(
    model: SigmaGPT,
    tokens: Tensor,
    known: Tensor,
    order: str | Tensor | list = "l2r",
    temperature: float = 1.0,
    forbid: Tensor | None = None,
) -> Tensor:
    """p(x_r | known) for every position r at once, from one model pass: [B, T, V].
    Known positions get a one-hot row of their own token."""
    tokens, known = _check_args(model, tokens, known, "exact", order, temperature, 1, None)
    order = run_order(order, known, row_seeds(0, len(tokens), model.device))
    dec = Decoder(model, tokens, known, order, check_forbid(forbid, tokens, model))
    out = torch.nn.functional.one_hot(tokens, model.config.vocab_size).float()
    rows = dec.active_rows()
    if len(rows):
        pos, valid = dec.remaining(rows)
        logits, _ = dec.query(rows, pos, valid)
        p = probabilities(logits, temperature)
        i, j = valid.nonzero(as_tuple=True)
        out[rows[i], pos[i, j]] = p[i, j]
    return out

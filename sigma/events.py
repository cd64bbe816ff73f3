"""What a sampler yields: one `StepEvent` per model step, one `RowStep` per row it moved, and the `SampleResult`
of a whole run. Plain data (tensors and lists), so that drawing them is the views' job."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class RowStep:
    """What one step did to one sequence of the batch. Positions are listed in the step's order."""

    row: int
    drafted: list[int]
    draft_tokens: list[int]
    draft_probs: list[float]  # p of each drafted token under the one-pass marginals
    accepted: list[int]  # drafted positions whose draft was kept
    rejected: int | None = None  # first drafted position whose draft was refused
    rejected_token: int | None = None
    replacement_token: int | None = None  # exact: the resampled token settled there; burst: None
    model_calls: int = 0  # cumulative for this row
    tokens_done: int = 0  # cumulative positions settled by sampling in this row
    finished: bool = False


@dataclass
class StepEvent:
    step: int
    rows: list[RowStep]
    tokens: Tensor  # [B, T] current values (unsettled positions hold their input values)
    done: Tensor  # [B, T] settled positions, known ones included
    model_calls: Tensor  # [B] cumulative
    tokens_processed: Tensor  # [B] cumulative slots run through the model
    log_likelihood: Tensor  # [B] nats of the settled positions given the known ones, along the settle order
    finished: bool = False


@dataclass
class SampleResult:
    tokens: Tensor  # [B, T]
    model_calls: Tensor  # [B]
    steps: Tensor  # [B]
    tokens_processed: Tensor  # [B]
    log_likelihood: Tensor  # [B] nats of the sampled positions given the known ones, along the settle order
    seconds: float
    events: list[StepEvent] = field(default_factory=list, repr=False)

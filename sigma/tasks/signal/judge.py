"""Judging a finished profile: its altitudes, and how far the model's steps are from the hidden true flight."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from sigma.tasks.signal.profile import BIN_FT, Profile, dequantise, show_run
from sigma.words import plural


@dataclass(frozen=True)
class Flown:
    """A finished run: the whole profile in feet, and how far the model's steps are from the hidden truth."""

    altitudes_ft: tuple[int, ...]
    marked: str  # the text form, the model's steps in [brackets]
    filled: int  # steps the model drew
    scored: int  # of those, steps with a true altitude to compare with
    mae_ft: float | None  # mean absolute error over the scored steps, in feet
    rounded: int = 0  # written altitudes moved to the 500 ft grid (Profile.rounded)

    @property
    def sentence(self) -> str:
        peak = max(self.altitudes_ft, default=0)
        if self.mae_ft is None:
            said = f"Done: the model drew {plural(self.filled, 'step')}; the flight peaks at {peak} ft."
        else:
            said = (
                f"Done: the model drew {plural(self.filled, 'step')}, {self.mae_ft:.0f} ft from the real flight on "
                f"average over the {self.scored} hidden steps; the flight peaks at {peak} ft."
            )
        return said + (f" {rounding_note(self.rounded)}" if self.rounded else "")

    @property
    def tone(self) -> str:
        if self.mae_ft is None or self.mae_ft <= 1000:
            return "good"
        return "fair" if self.mae_ft <= 3000 else "bad"

    def as_json(self) -> dict:
        mae = None if self.mae_ft is None else round(self.mae_ft, 1)
        return {
            "altitudes_ft": list(self.altitudes_ft),
            "marked": self.marked,
            "mae_ft": mae,
            "scored": self.scored,
            "message": self.sentence,
        }


def judge(profile: Profile, tokens: list[int]) -> Flown:
    filled = [i for i, k in enumerate(profile.known) if not k]
    scored = [i for i in filled if profile.hidden[i]]
    errors = [abs(tokens[i] - profile.tokens[i]) * BIN_FT for i in scored]
    return Flown(
        altitudes_ft=tuple(int(f) for f in dequantise(tokens)),
        marked=show_run(profile, tokens, [True] * len(tokens)),
        filled=len(filled),
        scored=len(scored),
        mae_ft=sum(errors) / len(errors) if errors else None,
        rounded=profile.rounded,
    )


def rounding_note(rounded: int) -> str:
    """What happened to altitudes written between two of the model's bins."""
    return f"{plural(rounded, 'written altitude')} rounded to the nearest {BIN_FT} ft, the model's grid."


def mae_ft(predicted: Tensor, truth: Tensor, known: Tensor) -> float:
    """Mean absolute error in feet over the unknown steps of a batch: tokens [B, T], known [B, T]."""
    diff = (predicted.long() - truth.long()).abs().float() * BIN_FT
    return float(diff[~known].mean()) if (~known).any() else 0.0

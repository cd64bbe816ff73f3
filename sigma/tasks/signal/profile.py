"""Aircraft vertical profiles for σ-GPT: the paper's third task. A whole flight (takeoff roll, climb, cruise,
descent, landing roll) is LENGTH evenly spaced instants of its altitude; pin any of them and the model draws the
rest: forecast a flight from its first third, fill a gap, rebuild it from a few points.

Tokens are altitude bins, not vertical-rate bins. The paper predicts vertical rate; altitude carries the same
information (the rate of a step is the difference of two altitudes) and suits this task better:

- a pin means what a person means by it: "at FL120 at this instant", which a rate cannot say without
  every rate before it;
- a profile read off the tokens cannot drift: a sum of sampled rates accumulates their errors, so a forecast
  could end its flight underground;
- the chart reads at once, and errors are in feet against the true flight.

Bins are 500 ft wide and centred on multiples of 500 ft (bin k is k × 500 ft), from the ground to 44,500 ft
(FL445, above any airliner's ceiling): 90 tokens. Every flight level (a multiple of 1000 ft, where aircraft
cruise and level off) is a bin centre, so a level segment is one repeated token and noise of tens of feet
never flickers between two bins. The steps are of a whole flight, so a step lasts 1/127 of its duration
(about 30 s for an hour's hop, 5 minutes for a ten-hour haul): the model learns shapes, not speeds.

Text form, for typing and for the API: LENGTH entries separated by commas (or by spaces when there is no comma),
each one of

- an altitude in feet (`35000`, `35000 ft`) or a flight level (`FL350`): a known step;
- `?` or `_`: an unknown step; `?*20` (or `_*20`): twenty of them;
- `[35000]`: an unknown step whose true altitude is kept, to score the model's answer against;
- `...` as the last entry: every remaining step unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sigma.words import plural

LENGTH = 128  # steps of a whole flight, and the model's block size
BIN_FT = 500  # bin k is k × BIN_FT feet
VOCAB_SIZE = 90  # bins 0 (ground) to 89 (44,500 ft)
CEILING_FT = BIN_FT * (VOCAB_SIZE - 1)
FORECAST_KNOWN = LENGTH // 3  # a forecast knows the first third of the flight
ROW = 16  # entries per line when a profile is written out
MAX_CHARS = 8000  # far above any profile in the text form; stops a huge paste early


# ---------------------------------------------------------------- altitude bins


def quantise(feet) -> np.ndarray:
    """Altitudes in feet as bin tokens, the nearest bin, clipped to the vocabulary:
    quantise([0, 240, 260, 35000, 60000]) -> [0, 0, 1, 70, 89]."""
    return np.clip(np.rint(np.asarray(feet, dtype=np.float64) / BIN_FT), 0, VOCAB_SIZE - 1).astype(np.int64)


def dequantise(tokens) -> np.ndarray:
    """Bin tokens as altitudes in feet (the bin centres): dequantise([0, 1, 70]) -> [0, 500, 35000]."""
    return np.asarray(tokens, dtype=np.int64) * BIN_FT


def label(token: int) -> str:
    """A bin as a person reads it: label(70) -> '35000 ft'."""
    return f"{int(token) * BIN_FT} ft"


# ---------------------------------------------------------------- a profile and its text form


@dataclass(frozen=True)
class Profile:
    """The altitude bin of every step and which steps are known. An unknown step is `hidden` when its token is
    the flight's true altitude, kept to score the model's answer; otherwise its token is 0 and means nothing."""

    tokens: tuple[int, ...]
    known: tuple[bool, ...]
    hidden: tuple[bool, ...]
    rounded: int = 0  # written altitudes that were not on the model's 500 ft grid, each moved to its nearest bin

    def __post_init__(self) -> None:
        for name in ("tokens", "known", "hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not len(self.tokens) == len(self.known) == len(self.hidden):
            raise ValueError("a profile needs as many known and hidden flags as tokens")
        if any(not 0 <= t < VOCAB_SIZE for t in self.tokens):
            raise ValueError(f"a profile's tokens are altitude bins from 0 to {VOCAB_SIZE - 1}")
        if any(k and h for k, h in zip(self.known, self.hidden, strict=True)):
            raise ValueError("a step cannot be both known and hidden")


def masked(tokens, known) -> Profile:
    """A whole flight with the steps not `known` hidden (their true altitudes kept for scoring)."""
    known = [bool(k) for k in known]
    return Profile([int(t) for t in tokens], known, [not k for k in known])


_NUMBER = re.compile(r"(?i)(?:fl\s*(\d+(?:\.\d+)?)|(-?\d+(?:\.\d+)?)\s*(?:ft|feet)?)")
_REPEAT = re.compile(r"[?_]\s*\*\s*(\d+)")


def _feet(entry: str, step: int) -> float:
    """One written altitude in feet; ValueError names the step and what is wrong."""
    m = _NUMBER.fullmatch(entry)
    if not m:
        raise ValueError(
            f"cannot read step {step} {entry[:20]!r}: write an altitude in feet (35000), a flight level (FL350), "
            "? for an unknown step, or [35000] for an unknown step with its true altitude"
        )
    feet = float(m.group(1)) * 100 if m.group(1) is not None else float(m.group(2))
    if not 0 <= feet <= CEILING_FT + BIN_FT / 2:
        raise ValueError(f"step {step} is at {entry}: altitudes run from 0 ft (the ground) to {CEILING_FT} ft")
    return feet


def parse_profile(text: str, length: int = LENGTH) -> Profile:
    """A profile in the text form (see the module docstring); ValueError says what to change."""
    if not isinstance(text, str):
        raise ValueError(f"the profile must be text (altitudes separated by commas), got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"the profile has {len(text)} characters; the limit is {MAX_CHARS}")
    if not text.strip():
        raise ValueError("The profile is empty: type altitudes separated by commas, or pick an example.")
    entries = [e.strip() for e in (text.split(",") if "," in text else text.split())]
    if entries and not entries[-1]:
        entries.pop()  # a trailing comma
    tokens: list[int] = []
    known: list[bool] = []
    hidden: list[bool] = []
    rounded = 0
    for n, entry in enumerate(entries):
        step = len(tokens)
        repeat = _REPEAT.fullmatch(entry)
        if entry == "...":
            if n != len(entries) - 1:
                raise ValueError("'...' leaves every remaining step unknown, so it must be the last entry")
            count = max(0, length - step)
            tokens, known, hidden = tokens + [0] * count, known + [False] * count, hidden + [False] * count
        elif entry in ("?", "_") or repeat:
            count = int(repeat.group(1)) if repeat else 1
            if count > length:
                raise ValueError(f"{entry} asks for {count} unknown steps; a profile has {length}")
            tokens, known, hidden = tokens + [0] * count, known + [False] * count, hidden + [False] * count
        elif not entry:
            raise ValueError(f"step {step} is empty (two commas in a row): write ? for an unknown step")
        else:
            is_truth = entry.startswith("[") and entry.endswith("]")  # a hidden step's true altitude
            feet = _feet(entry[1:-1].strip() if is_truth else entry, step)
            tokens.append(int(quantise([feet])[0]))
            rounded += tokens[-1] * BIN_FT != feet
            known.append(not is_truth)
            hidden.append(is_truth)
        if len(tokens) > length:
            break
    if len(tokens) != length:
        raise ValueError(
            f"The profile has {plural(len(tokens), 'step')}{'' if len(tokens) <= length else ' or more'}; "
            "the model reads "
            f"exactly {length}. Write ? for each unknown step (?*20 for twenty), or end with ... to leave the rest "
            "unknown."
        )
    return Profile(tokens, known, hidden, rounded)


def _write(entries: list[str]) -> str:
    """Entries as text, ROW to a line."""
    rows = [", ".join(entries[i : i + ROW]) for i in range(0, len(entries), ROW)]
    return ",\n".join(rows)


def format_profile(profile: Profile) -> str:
    """A profile in the text form, hidden steps with their true altitudes: parse_profile reads it back."""
    entries = []
    for t, k, h in zip(profile.tokens, profile.known, profile.hidden, strict=True):
        entries.append(str(t * BIN_FT) if k else f"[{t * BIN_FT}]" if h else "?")
    return _write(entries)


def show_run(profile: Profile, tokens: list[int], done: list[bool]) -> str:
    """A (partial) run in the text form: known steps as given, steps the model settled in [brackets], the rest ?."""
    entries = []
    for t, k, d in zip(tokens, profile.known, done, strict=True):
        entries.append(str(t * BIN_FT) if k else f"[{t * BIN_FT}]" if d else "?")
    return _write(entries)

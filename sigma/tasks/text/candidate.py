"""One choice of lengths for the "[...]" blanks of a passage, its fill, and the score that ranks it.

Short and long fills must compare. The plain likelihood favours short fills (every token costs), the likelihood
per character long ones (a long run of common words is cheap per character), so a candidate's score is its
negative log-likelihood over its characters to the power LENGTH_PENALTY (a length penalty in the manner of
beam search's): 0 is the plain likelihood, 1 per character. On held-out phrases kept apart from the bench's
(`train.text_measures.blanked_phrases(seed=5)`), 0 chose fills about 1.8 tokens too short and 1 about 2.5
tokens too long on average; 0.5 was unbiased.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LENGTH_PENALTY = 0.5


@dataclass(frozen=True)
class Candidate:
    """One choice of lengths for the "[...]" blanks, its fill, and its score."""

    lengths: tuple[int, ...]
    tokens: tuple[int, ...]  # the completed passage
    marked: str  # the passage with the fills in [brackets]
    nats: float  # -log p(completed passage), left to right
    characters: int  # of the completed passage

    @property
    def bits_per_char(self) -> float:
        return self.nats / max(1, self.characters) / math.log(2)

    def score(self, penalty: float = LENGTH_PENALTY) -> float:
        """Lower is better: nats over characters ** penalty (see the module docstring)."""
        return self.nats / max(1, self.characters) ** penalty

    @property
    def counts(self) -> str:
        """The lengths, e.g. '2 + 1 tokens'."""
        return " + ".join(str(n) for n in self.lengths) + f" token{'s' * (sum(self.lengths) != 1)}"

    @property
    def fills(self) -> str:
        """What was written at the lengths, e.g. '“ comes to” “ sun”'."""
        return " ".join(f"“{f[:40]}”" for f in re.findall(r"\[([^\]]*)\]", self.marked)).replace("\n", "↵")

    @property
    def label(self) -> str:
        """The lengths and what was written at them, e.g. '2 + 1 tokens: “ comes to” “ sun”'."""
        return f"{self.counts}: {self.fills}"

    def as_json(self) -> dict:
        return {
            "lengths": list(self.lengths),
            "marked": self.marked,
            "bits_per_char": round(self.bits_per_char, 4),
            "score": round(self.score(), 4),
        }

"""Counts in sentences a person reads: "1 token", "2 tokens", "1st", "53rd"."""

from __future__ import annotations


def plural(n: int, noun: str) -> str:
    """plural(1, "token") -> "1 token"; plural(3, "step") -> "3 steps" """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def ordinal(n: int) -> str:
    """ordinal(1) -> "1st"; ordinal(12) -> "12th"; ordinal(53) -> "53rd" """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

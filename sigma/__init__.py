"""σ-GPT engine: the any-order transformer, its orders and its samplers."""

from sigma.model import SigmaConfig, SigmaGPT

__all__ = ["SigmaConfig", "SigmaGPT"]

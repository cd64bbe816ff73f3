"""The sampler variants the benchmarks compare."""

from __future__ import annotations

from sigma.settings import SAMPLERS


def variants() -> dict[str, tuple[str, str | None]]:
    """Bench name -> (sampler, window): every sampler as `sample()` runs it (windowed), and unwindowed."""
    out = {m: (m, "auto" if m != "sequential" else None) for m in SAMPLERS}
    out |= {f"{m}/unwindowed": (m, None) for m in SAMPLERS if m != "sequential"}
    return out

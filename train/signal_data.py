"""Aircraft vertical profiles for the signal task: whole flights from OpenAP's flight generator, with the
perturbations real traffic shows, resampled to `sigma.tasks.signal.LENGTH` steps.

OpenAP (PyPI `openap`) ships WRAP, kinematic models of each aircraft type's climb, cruise and descent fitted to
real ADS-B data, and `openap.gen.FlightGenerator`, which draws the phase speeds and vertical rates of one
flight from those models. Everything it needs is in the package: nothing is downloaded. Only training needs
it; the app reads the few example flights shipped in `sigma/tasks/signal/signal_data.json`.

One flight, on a 10 s clock, with its own seeded generator:

- the type, uniform over `TYPES`; a cruise level from the type's fitted cruise-altitude range, on a
  whole flight level (a multiple of 1000 ft, as ATC assigns them);
- the climb and the descent from `FlightGenerator.climb` / `.descent` with random phase parameters and
  OpenAP's ADS-B noise model (altitude sigma 7.5 m);
- level-offs: in the climb, half of the flights stop at a flight level (FL50–FL250) for 1–6 minutes
  (a departure restriction); in the descent, most stop once or twice (FL60–FL250, or 2000–5000 ft to
  intercept the approach) for 1–6 minutes, and a few hold for up to 15 minutes;
- step climbs: none, one or two 2000 ft steps during the cruise, at 500–1500 ft/min, while the type's
  ceiling allows;
- the cruise length: a range drawn log-uniform between the type's shortest fitted range (at least 200 km)
  and its longest, flown at its cruise Mach, so short hops (mostly climb and descent) are as common
  as long hauls (mostly cruise);

then the whole flight (takeoff roll to the end of the landing roll) is resampled to LENGTH steps: step i
is at i/(LENGTH-1) of the flight's duration, so every profile starts and ends on the ground.

Splits are by seed: training flights use seeds 0.., validation 1_000_000.., test 2_000_000.. .
`python -m train.signal_data --out runs/signal-data` writes the three splits as safetensors
(`altitude_ft` [N, LENGTH] float32, `type` [N] int) plus a JSON index; `--examples` rewrites the shipped
example file from test flights.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from functools import cache
from pathlib import Path

import numpy as np

from sigma.tasks import signal as sg

TYPES = ("a319", "a320", "a321", "b737", "b738", "b739", "e190", "a332", "a333", "b788", "b77w")
SPLIT_SEEDS = {"train": 0, "val": 1_000_000, "test": 2_000_000}
DT = 10.0  # seconds between the generator's samples
FT = 0.3048  # metres per foot
NOISE_FT = 25.0  # ADS-B altitude noise (OpenAP's sigma_h, 7.5 m) on the segments built here


@cache
def generator(ac: str):
    """One OpenAP flight generator per type (loading its WRAP model is the slow part); reseeded per flight."""
    from openap.gen import FlightGenerator

    gen = FlightGenerator(ac)
    gen.enable_noise()
    return gen


def _level(rng: np.random.Generator, altitude: float, minutes: float) -> np.ndarray:
    """A level segment at `altitude` ft for `minutes`, with measurement noise."""
    n = max(1, round(minutes * 60 / DT))
    return altitude + rng.normal(0, NOISE_FT, n)


def _ramp(rng: np.random.Generator, start: float, end: float, fpm: float) -> np.ndarray:
    """A climb or descent from `start` to `end` ft at `fpm` ft/min, with measurement noise."""
    n = max(1, math.ceil(abs(end - start) / fpm * 60 / DT))
    return np.linspace(start, end, n + 1)[1:] + rng.normal(0, NOISE_FT, n)


def _insert_level_off(rng: np.random.Generator, alt: np.ndarray, level: float, minutes: float, climbing: bool):
    """`alt` with a level segment at `level` ft, where the climb (or descent) first passes it."""
    passed = np.nonzero(alt >= level if climbing else alt <= level)[0]
    if len(passed) == 0 or passed[0] == 0:
        return alt
    i = passed[0]
    return np.concatenate([alt[:i], _level(rng, level, minutes), alt[i:]])


def flight(seed: int) -> tuple[str, np.ndarray]:
    """One whole flight (aircraft type, altitude in ft every DT seconds); the same seed gives the same flight."""
    from openap import aero

    rng = np.random.default_rng(seed)
    ac = TYPES[rng.integers(len(TYPES))]
    gen = generator(ac)
    gen.rng = np.random.default_rng(rng.integers(2**63))  # OpenAP's random phase parameters and noise
    wrap = gen.wrap

    cruise = wrap.cruise_alt()
    low, high = cruise["minimum"] * 1000 / FT, cruise["maximum"] * 1000 / FT
    level = 1000.0 * round(rng.uniform(low, high) / 1000)
    ceiling = min(1000.0 * math.floor(high / 1000) + 2000, sg.CEILING_FT - 1000)

    climb = gen.climb(dt=DT, random=True, alt_cr=level).h.to_numpy() / FT
    if rng.random() < 0.5:
        stop = 1000.0 * rng.integers(5, min(25, int(level / 1000) - 4) + 1)
        climb = _insert_level_off(rng, climb, stop, rng.uniform(1, 6), climbing=True)

    ranges = wrap.cruise_range()
    km = math.exp(rng.uniform(math.log(max(200.0, ranges["minimum"])), math.log(ranges["maximum"])))
    tas = aero.mach2tas(wrap.cruise_mach()["default"], level * FT)  # m/s
    cruise_min = km * 1000 / tas / 60
    steps = min(int(rng.choice([0, 0, 0, 1, 1, 2])), int((ceiling - level) // 2000))
    cuts = np.sort(rng.uniform(0.15, 0.85, steps)) * cruise_min
    parts, at, done = [], level, 0.0
    for cut in cuts:
        parts.append(_level(rng, at, cut - done))
        parts.append(_ramp(rng, at, at + 2000, rng.uniform(500, 1500)))
        at, done = at + 2000, cut
    parts.append(_level(rng, at, cruise_min - done))

    descent = gen.descent(dt=DT, random=True, alt_cr=at).h.to_numpy() / FT
    stops = rng.choice([0, 1, 1, 2])
    for _ in range(stops):
        if rng.random() < 0.3:
            stop = 1000.0 * rng.integers(2, 6)  # intercepting the approach
        else:
            stop = 1000.0 * rng.integers(6, min(25, int(at / 1000) - 4) + 1)
        minutes = rng.uniform(6, 15) if rng.random() < 0.1 else rng.uniform(1, 6)  # a hold, now and then
        descent = _insert_level_off(rng, descent, stop, minutes, climbing=False)

    alt = np.concatenate([climb, *parts, descent])
    return ac, np.clip(alt, 0.0, None)


def resample(alt: np.ndarray, length: int = sg.LENGTH) -> np.ndarray:
    """A whole flight at `length` evenly spaced instants from its first sample to its last (linear)."""
    t = np.arange(len(alt), dtype=np.float64)
    return np.interp(np.linspace(0, len(alt) - 1, length), t, alt)


def profiles(split: str, n: int, log_every: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n flights of a split: altitude_ft [n, LENGTH] float32 and type index [n]."""
    first = SPLIT_SEEDS[split]
    alts, types = np.zeros((n, sg.LENGTH), np.float32), np.zeros(n, np.int64)
    start = time.perf_counter()
    for i in range(n):
        ac, alt = flight(first + i)
        alts[i], types[i] = resample(alt), TYPES.index(ac)
        if log_every and (i + 1) % log_every == 0:
            print(f"{split}: {i + 1}/{n} flights, {time.perf_counter() - start:.0f} s", flush=True)
    return alts, types


def write(out: Path, counts: dict[str, int]) -> None:
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    for split, n in counts.items():
        alts, types = profiles(split, n, log_every=1000)
        save_file({"altitude_ft": alts, "type": types}, str(out / f"{split}.safetensors"))
    index = {"types": list(TYPES), "seeds": {s: [SPLIT_SEEDS[s], SPLIT_SEEDS[s] + n] for s, n in counts.items()}}
    (out / "index.json").write_text(json.dumps(index, indent=1))


def load(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """altitude_ft [N, LENGTH] and type [N] of a split written by `write`."""
    from safetensors.numpy import load_file

    data = load_file(str(Path(folder) / f"{split}.safetensors"))
    return data["altitude_ft"], data["type"]


TEST_FLIGHTS_FILE = Path(__file__).with_name("data") / "signal_test_flights.json"
TEST_FLIGHTS = 64  # shipped, so that `python -m train.bench signal` runs from a fresh clone


def write_test_flights(path: Path = TEST_FLIGHTS_FILE, n: int = TEST_FLIGHTS) -> None:
    """The first n flights of the test split as altitude tokens (the bench's held-out flights), with seeds."""
    alts, types = profiles("test", n)
    first = SPLIT_SEEDS["test"]
    flights = [
        {"type": TYPES[t], "seed": first + i, "tokens": sg.quantise(a).tolist()}
        for i, (a, t) in enumerate(zip(alts, types, strict=True))
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"split": "test", "flights": flights}, separators=(",", ":")) + "\n")


def test_flight_tokens(path: Path = TEST_FLIGHTS_FILE) -> np.ndarray:
    """The shipped test flights' altitude tokens [N, LENGTH]: the first flights of the test split."""
    return np.array([f["tokens"] for f in json.loads(path.read_text())["flights"]], dtype=np.int64)


EXAMPLE_SEEDS = (3, 12, 13, 11, 4)  # test flights (offsets from the test split's first seed), one per example


def write_examples(path: Path = sg.EXAMPLES_FILE) -> None:
    """The shipped example flights: test-split flights as altitude tokens, with their type and seed."""
    flights = []
    for offset in EXAMPLE_SEEDS:
        seed = SPLIT_SEEDS["test"] + offset
        ac, alt = flight(seed)
        flights.append({"type": ac, "seed": seed, "tokens": sg.quantise(resample(alt)).tolist()})
    lines = ",\n".join(json.dumps(f) for f in flights)  # one flight a line
    path.write_text(f'{{"bin_ft": {sg.BIN_FT}, "length": {sg.LENGTH}, "flights": [\n{lines}\n]}}\n')
    print(f"wrote {len(flights)} example flights to {path} ({path.stat().st_size} bytes)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m train.signal_data", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/signal-data")
    p.add_argument("--train", type=int, default=16384)
    p.add_argument("--val", type=int, default=512)
    p.add_argument("--test", type=int, default=512)
    p.add_argument("--examples", action="store_true", help="rewrite the shipped example flights instead")
    p.add_argument("--test-flights", action="store_true", help="rewrite the bench's shipped test flights instead")
    args = p.parse_args(argv)
    if args.examples:
        write_examples()
        return
    if args.test_flights:
        write_test_flights()
        return
    write(Path(args.out), {"val": args.val, "test": args.test, "train": args.train})


if __name__ == "__main__":
    main()

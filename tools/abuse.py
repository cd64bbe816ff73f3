"""`python -m tools.abuse --pid PID`: what one hostile client does to everyone else. Against a running app
(PID: its process, for the memory figures), each scenario runs an attacker while a victim (a different
address, as X-Forwarded-For says on a Space) solves mazes one after another, and prints the victim's p50/p95
latency and errors, what the attacker got back, and the server's resident memory before and after.

Scenarios: idle (no attacker: the baseline), flood (N API calls posted at once, never read), heavy
(two clients looping the costliest fills the limits allow), slow (two clients looping the page's own run
events), oversize (large request bodies), upload (large uploads). `python -m tools.load` gives the load
table; this gives the abuse table.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import threading
import time
from collections.abc import Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx
from gradio_client import Client

from sigma.tasks import maze as mz

MAZE = mz.examples()[0]
HEAVY_FILL = "[" + "_" * 128 + "]"


def rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def client(url: str, address: str) -> Client:
    return Client(url, verbose=False, headers={"X-Forwarded-For": address})


VICTIM_PACE_S = 2.0  # an ordinary user: one solve every 2 s, under the per-client cap


def victim(url: str, stop: threading.Event, out: list, errors: list) -> None:
    """Solve a maze every VICTIM_PACE_S seconds, as an ordinary API user would."""
    c = client(url, "10.0.0.1")
    while not stop.is_set():
        start = time.perf_counter()
        try:
            c.predict(MAZE, "exact-confident", "random", 5, 0.0, 0, api_name="/solve_maze")
            out.append(time.perf_counter() - start)
        except Exception as err:  # every failure the victim sees counts
            errors.append(f"{type(err).__name__}: {str(err)[:80]}")
        stop.wait(max(0.0, VICTIM_PACE_S - (time.perf_counter() - start)))


def flood(url: str, stop: threading.Event, tally: collections.Counter, n: int = 80) -> None:
    c = client(url, "10.0.0.66")
    jobs = []
    for seed in range(n):
        try:
            jobs.append(c.submit(MAZE, "burst", "random", 16, 1.0, seed, api_name="/solve_maze"))
        except Exception as err:
            tally[type(err).__name__] += 1
    for job in jobs:
        try:
            job.result(timeout=60)
            tally["finished"] += 1
        except Exception as err:
            tally[_kind(err)] += 1


def looping(api_name: str, *args) -> Callable:
    """An attacker that calls one endpoint again and again, pausing only after a refusal."""

    def attack(url: str, stop: threading.Event, tally: collections.Counter, address: str) -> None:
        c = client(url, address)
        while not stop.is_set():
            try:
                c.predict(*args, api_name=api_name)
                tally["finished"] += 1
            except Exception as err:
                tally[_kind(err)] += 1
                time.sleep(0.5)

    return attack


heavy = looping("/fill_text", HEAVY_FILL, "burst", "random", 16, 1.0, 0)  # the costliest fill the limits allow
# the page's own run event (model work only since the animation moved out of the model slots)
slow = looping("/maze_solve", MAZE, "sequential", "random", 5, 0.0, 0)


def oversize(url: str, stop: threading.Event, tally: collections.Counter, n: int = 200) -> None:
    with httpx.Client(headers={"X-Forwarded-For": "10.0.0.69"}) as h:
        for _ in range(n):
            r = h.post(url + "gradio_api/queue/join", content=b'{"data": ["' + b"x" * 1_000_000 + b'"]}')
            tally[str(r.status_code)] += 1


def upload(url: str, stop: threading.Event, tally: collections.Counter, n: int = 50) -> None:
    with httpx.Client(headers={"X-Forwarded-For": "10.0.0.70"}) as h:
        for i in range(n):
            r = h.post(url + "gradio_api/upload", files={"files": (f"f{i}.bin", b"\0" * 1_000_000)})
            tally[str(r.status_code)] += 1


def _kind(err: Exception) -> str:
    text = str(err)
    for code in ("429", "413", "503"):
        if code in text:
            return code
    return type(err).__name__


def idle(url: str, stop: threading.Event, tally: collections.Counter) -> None:
    """No attacker: the victim's baseline."""
    stop.wait()


SCENARIOS = {"idle": idle, "flood": flood, "heavy": heavy, "slow": slow, "oversize": oversize, "upload": upload}
PAIRED = {"heavy", "slow"}  # scenarios run by two attacking clients


def run(url: str, name: str, seconds: float, pid: int | None) -> dict:
    before = rss_mb(pid)
    stop, times, errors, tally = threading.Event(), [], [], collections.Counter()
    attackers = [
        threading.Thread(target=SCENARIOS[name], args=(url, stop, tally) + ((f"10.0.1.{k}",) if name in PAIRED else ()))
        for k in range(2 if name in PAIRED else 1)
    ]
    watcher = threading.Thread(target=victim, args=(url, stop, times, errors))
    watcher.start()
    for t in attackers:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in [*attackers, watcher]:
        t.join()
    return {
        "scenario": name,
        "victim_requests": len(times),
        "victim_p50_ms": round(1000 * statistics.median(times)) if times else None,
        "victim_p95_ms": round(1000 * _p95(times)) if times else None,
        "victim_errors": len(errors),
        "attacker": dict(tally),
        "rss_mb_before": before and round(before),
        "rss_mb_after": rss_mb(pid) and round(rss_mb(pid)),
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tools.abuse", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860/")
    p.add_argument("--pid", type=int, help="the app's process id, for its resident memory")
    p.add_argument("--seconds", type=float, default=20.0, help="how long each scenario lasts")
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    args = p.parse_args(argv)
    print("| scenario | victim requests | victim p50 / p95 ms | victim errors | attacker got | RSS before → after MB |")
    print("|---|---|---|---|---|---|")
    for name in args.scenarios:
        r = run(args.url, name, args.seconds, args.pid)
        print(
            f"| {r['scenario']} | {r['victim_requests']} | {r['victim_p50_ms']} / {r['victim_p95_ms']} | "
            f"{r['victim_errors']} | {r['attacker']} | {r['rss_mb_before']} → {r['rss_mb_after']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

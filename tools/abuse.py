"""`python -m tools.abuse --pid PID`: what strangers do to everyone else. Against an app running on this machine
(`python app.py`; PID: its process, for the memory figures), each scenario runs attackers from their own loopback
addresses while a victim at 127.0.0.2 solves a maze every 2 s, and prints the victim's p50/p95 latency and
errors, what the attackers got back (HTTP statuses, runs finished), the server's CPU seconds over the scenario
(the victim's share included: see `idle`) and its resident memory.

The attackers do what a stranger would: forge X-Forwarded-For, add a trailing slash, send `fn_index` as a
string, call `/run/`, post floods and never read them, open a long run's results and hang up after half a second,
loop the costliest runs the limits allow from several addresses, and flood the page's own events with fresh
sessions. Every loop is bounded in count and time, and
only loopback addresses (127.0.0.0/8) are ever contacted. `python -m tools.load` gives the load table.
"""

from __future__ import annotations

import argparse
import collections
import ipaddress
import json
import os
import statistics
import threading
import time
import uuid
from urllib.parse import urlparse

import httpx

from sigma.tasks import maze as mz
from sigma.tasks import signal as sg

MAZE = mz.examples()[0]
PROFILE = sg.examples()[0]
LONG_BLANK = "[" + "_" * 250 + "]"  # a text run of 250 model calls with the sequential sampler
VICTIM = "127.0.0.2"
VICTIM_PACE_S = 2.0  # an ordinary user: one solve every 2 s
MAX_PER_SCENARIO = 400  # requests per attacker, whatever the scenario


def rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_s(pid: int | None) -> float | None:
    """The process's user + system CPU seconds so far, every thread included."""
    if not pid:
        return None
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http(address: str, timeout: float = 60) -> httpx.Client:
    """A client whose connections leave from `address` (a loopback address of its own)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=timeout)


def call(h: httpx.Client, url: str, name: str, data: list, read: bool = True, path: str = "call", **kw) -> str:
    """POST /gradio_api/<path>/<name> and, if `read`, follow its result stream; the outcome in a word."""
    r = h.post(f"{url}gradio_api/{path}/{name}", json={"data": data}, **kw)
    if r.status_code != 200:
        return str(r.status_code)
    if not read or path != "call":
        return "accepted" if path == "call" else "200"
    with h.stream("GET", f"{url}gradio_api/call/{name.rstrip('/')}/{r.json()['event_id']}") as s:
        kind = "?"
        for line in s.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
        return "finished" if kind == "complete" else kind


def victim(url: str, stop: threading.Event, out: list, errors: list) -> None:
    with http(VICTIM) as h:
        while not stop.is_set():
            start = time.perf_counter()
            got = call(h, url, "solve_maze", [MAZE])
            if got == "finished":
                out.append(time.perf_counter() - start)
            else:
                errors.append(got)
            stop.wait(max(0.0, VICTIM_PACE_S - (time.perf_counter() - start)))


def many(n: int, fn) -> list[str]:
    """n requests at once (threads), each fn(i) -> outcome."""
    results = [""] * n

    def one(i):
        try:
            results[i] = fn(i)
        except httpx.HTTPError as err:
            results[i] = type(err).__name__

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def forged(url, stop, tally):
    """60 runs at once from one address, each with its own forged X-Forwarded-For."""
    with http("127.0.0.3") as h:
        tally.update(many(60, lambda i: call(h, url, "solve_maze", [MAZE], headers={"X-Forwarded-For": f"10.9.0.{i}"})))


def slash(url, stop, tally):
    with http("127.0.0.4") as h:
        tally.update(many(20, lambda i: call(h, url, "solve_maze/", [MAZE])))


def string_index(url, stop, tally):
    with http("127.0.0.5") as h:
        config = h.get(url + "config").json()
        index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "solve_maze")
        body = {"data": [MAZE, "exact", "random", 5, 0.0, 0, 1], "fn_index": str(index), "session_hash": "s"}
        tally.update(many(20, lambda i: str(h.post(url + "gradio_api/queue/join", json=body).status_code)))


def run_route(url, stop, tally):
    """/run/ skips the queue where it is open: four spreads of 64 draws at once."""
    with http("127.0.0.6") as h:
        tally.update(many(4, lambda i: call(h, url, "spread_signal", [PROFILE, 64], path="run")))


def flood(url, stop, tally):
    """80 costly solves posted at once and never read."""
    with http("127.0.0.7") as h:
        tally.update(many(80, lambda i: call(h, url, "solve_maze", [MAZE, "burst", "random", 16, 1.0, i], read=False)))


def unread(url, stop, tally):
    """20 spreads posted one after another, their results never opened."""
    with http("127.0.0.8") as h:
        for _ in range(20):
            tally[call(h, url, "spread_signal", [PROFILE, 64], read=False)] += 1


def dropped(url, stop, tally):
    """Two fills of a 250-token blank, one token per model call (about 2 CPU s each when read to the end), their
    results opened and the connection closed after half a second."""

    def one(i: int) -> str:
        with http(f"127.0.0.{30 + i}") as h:
            r = h.post(f"{url}gradio_api/call/fill_text", json={"data": [LONG_BLANK, "sequential"]})
            if r.status_code != 200:
                return str(r.status_code)
            with h.stream("GET", f"{url}gradio_api/call/fill_text/{r.json()['event_id']}"):
                time.sleep(0.5)
            return "dropped after 0.5 s"

    tally.update(many(2, one))


def spreads(url, stop, tally):
    """Three addresses loop the costliest spread the limits allow (64 draws), reading every result, while a
    fourth floods past its own budget."""

    def loop(address: str, read: bool):
        with http(address) as h:
            for _ in range(MAX_PER_SCENARIO):
                if stop.is_set():
                    return
                got = call(h, url, "spread_signal", [PROFILE, 64], read=read)
                tally[got] += 1
                if got not in ("finished", "accepted"):
                    stop.wait(0.5)

    threads = [threading.Thread(target=loop, args=(f"127.0.0.{20 + k}", k < 3)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def events(url, stop, tally):
    """The page's own "New random maze" event, each call from a fresh session, as fast as it is answered."""
    with http("127.0.0.9") as h:
        config = h.get(url + "config").json()
        index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "maze_new")
        for _ in range(250):
            if stop.is_set():
                return
            body = {"data": ["any"], "fn_index": index, "session_hash": uuid.uuid4().hex[:10]}
            tally[str(h.post(url + "gradio_api/queue/join", json=body).status_code)] += 1


def deep(url, stop, tally):
    with http("127.0.0.10") as h:
        for _ in range(20):
            tally[str(h.post(url + "gradio_api/queue/join", content=b"[" * 30_000 + b"]" * 30_000).status_code)] += 1


def upload(url, stop, tally):
    with http("127.0.0.11") as h:
        for i in range(50):
            r = h.post(url + "gradio_api/upload", files={"files": (f"f{i}.bin", b"\0" * 60_000)})
            tally[str(r.status_code)] += 1


def idle(url, stop, tally):
    stop.wait()


SCENARIOS = {
    "idle": idle,
    "forged": forged,
    "slash": slash,
    "string_index": string_index,
    "run": run_route,
    "flood": flood,
    "unread": unread,
    "dropped": dropped,
    "spreads": spreads,
    "events": events,
    "deep": deep,
    "upload": upload,
}


def run(url: str, name: str, seconds: float, pid: int | None) -> dict:
    before, cpu_before = rss_mb(pid), cpu_s(pid)
    stop, times, errors, tally = threading.Event(), [], [], collections.Counter()
    attacker = threading.Thread(target=SCENARIOS[name], args=(url, stop, tally))
    watcher = threading.Thread(target=victim, args=(url, stop, times, errors))
    watcher.start()
    attacker.start()
    time.sleep(seconds)
    stop.set()
    attacker.join(timeout=120)
    watcher.join(timeout=120)
    return {
        "scenario": name,
        "victim_requests": len(times) + len(errors),
        "victim_p50_ms": round(1000 * statistics.median(times)) if times else None,
        "victim_p95_ms": round(1000 * _p95(times)) if times else None,
        "victim_errors": dict(collections.Counter(errors)),
        "attacker": dict(tally),
        "server_cpu_s": cpu_before is not None and round(cpu_s(pid) - cpu_before, 1),
        "rss_mb_before": before and round(before),
        "rss_mb_after": rss_mb(pid) and round(rss_mb(pid)),
    }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tools.abuse", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860/")
    p.add_argument("--pid", type=int, help="the app's process id, for its resident memory")
    p.add_argument("--seconds", type=float, default=20.0, help="how long each scenario lasts (at most 120)")
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    args = p.parse_args(argv)
    host = urlparse(args.url).hostname or ""
    if host != "localhost" and not (host.replace(".", "").isdigit() and ipaddress.ip_address(host).is_loopback):
        p.error("the app must be on this machine (a loopback address): this tool attacks it")
    seconds = min(args.seconds, 120.0)
    print(
        "| scenario | victim requests | victim p50 / p95 ms | victim errors | attackers got | server CPU s "
        "| RSS before → after MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.scenarios:
        r = run(args.url, name, seconds, args.pid)
        print(
            f"| {r['scenario']} | {r['victim_requests']} | {r['victim_p50_ms']} / {r['victim_p95_ms']} | "
            f"{json.dumps(r['victim_errors']) if r['victim_errors'] else 0} | {json.dumps(r['attacker'])} | "
            f"{r['server_cpu_s']} | {r['rss_mb_before']} → {r['rss_mb_after']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""`python -m tools.load`: drive N concurrent streaming clients against a running app for S seconds and
print errors and latency percentiles (first streamed event, whole request, model work).

Each client loops over one task's endpoint (`/solve_maze`, `/fill_text`, ...: `/<verb>_<task>`) with the
task's first example or `--input`, its default settings and a seed per request, over gradio_client,
exactly as an API user would, each client with its own X-Forwarded-For, as separate users behind a proxy are.
The app believes that header only from a trusted proxy: start it with SIGMA_TRUSTED_PROXIES=127.0.0.1 so that
this tool stands as the proxy in front of its clients (otherwise they are one client, with one budget).
With --clients 1 it measures single-request latency.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from gradio_client import Client

from sigma.task import Task
from sigma.tasks import all_tasks


def one_request(client: Client, task: Task, source: str, seed: int) -> tuple[float, float, float]:
    """Seconds to the first streamed event and to the end, and the model work the server reports."""
    d = task.defaults
    start = time.perf_counter()
    job = client.submit(
        source, d.sampler, d.order, d.num_orders, d.temperature, seed, api_name=f"/{task.verb}_{task.name}"
    )
    first, last = None, None
    for event in job:
        first = first or time.perf_counter() - start
        last = event
    job.result()  # raises if the endpoint failed
    if not last or not last.get("finished"):
        raise RuntimeError(f"the stream ended without a finished event: {str(last)[:200]}")
    return first, time.perf_counter() - start, last["model_seconds"]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tools.load", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860/")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--task", choices=sorted(all_tasks()), default="maze")
    p.add_argument("--input", help="what each request sends (default: the task's first example)")
    p.add_argument("--blanks", type=int, default=0, help="text: send an all-blank passage of this many tokens")
    args = p.parse_args(argv)
    task = all_tasks()[args.task]
    source = "[" + "_" * args.blanks + "]" if args.blanks else args.input or task.examples(None)[0]

    results: list[tuple[float, float, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def worker(i: int) -> None:
        rng = random.Random(i)
        client = Client(args.url, verbose=False, headers={"X-Forwarded-For": f"10.1.{i // 250}.{i % 250 + 1}"})
        while time.monotonic() < stop:
            try:
                r = one_request(client, task, source, rng.randrange(1000))
                with lock:
                    results.append(r)
            except Exception as err:  # every failure counts, whatever its kind
                with lock:
                    errors.append(f"{type(err).__name__}: {str(err)[:160]}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    print(f"{args.task}: {args.clients} clients x {args.seconds:.0f} s: {len(results)} requests, {len(errors)} errors")
    for e in sorted(set(errors))[:10]:
        print("  error:", e)
    if results:
        for name, col in (("first event", 0), ("whole request", 1), ("model work", 2)):
            values = [r[col] * 1000 for r in results]
            print(f"  {name:13s} ms: p50 {pct(values, 50):8.0f}   p95 {pct(values, 95):8.0f}   max {max(values):8.0f}")


if __name__ == "__main__":
    main()

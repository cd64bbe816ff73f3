"""The door (views/limits.py), the gate on the queue (views/gate.py) and the one cost model (views/cost.py): on
their own, and through a small app served by `app.launch` with a tiny budget, attacked from different
loopback addresses as strangers would."""

import asyncio
import contextlib
import json
import os
import socket
import threading
import time

import gradio as gr
import httpx
import pytest

import app
from sigma.settings import Settings
from views import cost, gate, limits
from views.runs import MAX_COST, STOPPED, check_cost

# ---------------------------------------------------------------- who the client is


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 5000), "headers": headers}


def test_a_forged_header_from_an_untrusted_peer_is_ignored():
    assert limits.client_of(scope("127.0.0.1", "1.2.3.4"), []) == "127.0.0.1"
    assert limits.client_of(scope("8.8.8.8", "10.0.0.1"), limits.trusted_proxies({})) == "8.8.8.8"


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_hop():
    trusted = limits.trusted_proxies({"SIGMA_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"})
    # the client wrote the first two; the proxy appended the address it saw, then a second proxy its own
    assert limits.client_of(scope("10.0.0.5", "6.6.6.6, 1.2.3.4, 192.168.1.1"), trusted) == "1.2.3.4"
    assert limits.client_of(scope("10.0.0.5", "10.9.9.9"), trusted) == "10.0.0.5"  # nothing untrusted: the peer
    assert limits.trusted_proxies({}) == []  # by default nobody is trusted ...
    assert limits.trusted_proxies({"SPACE_ID": "a/b"})  # ... but on a Space, the private networks its proxy uses
    with pytest.raises(ValueError):
        limits.trusted_proxies({"SIGMA_TRUSTED_PROXIES": "not-an-address"})


# ---------------------------------------------------------------- the door on its own


def call(door: limits.Limits, body: bytes, path: str = "/gradio_api/queue/join", chunks: int = 1, stall=False):
    """One POST through the door to an app that echoes; (status, payload, what the app saw, headers)."""
    seen = {}

    async def inner(scope, receive, send):
        seen["body"] = (await receive())["body"]
        seen["client"] = scope["sigma.client"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    parts = [body[i::chunks] for i in range(chunks)] if chunks > 1 else [body]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    headers = [] if chunks > 1 else [(b"content-length", str(len(body)).encode())]
    s = {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("1.2.3.4", 5)}
    sent = []

    async def receive():
        if stall:
            await asyncio.sleep(60)
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    door.app = inner
    asyncio.run(door(s, receive, send))
    return sent[0]["status"], sent[1]["body"], seen, dict(sent[0]["headers"])


def test_oversize_bodies_are_refused_before_the_app_sees_them_declared_or_chunked():
    door = limits.Limits(None, trusted=[])
    for chunks in (1, 4):
        status, payload, seen, _ = call(door, b"x" * (limits.MAX_BODY_BYTES + 1), chunks=chunks)
        assert status == 413 and "larger than 64 KB" in json.loads(payload)["error"] and not seen
    status, _, seen, _ = call(door, b'{"fn_index": 3}')
    assert status == 200 and seen == {"body": b'{"fn_index": 3}', "client": "1.2.3.4"}


def test_a_deeply_nested_body_is_a_400_not_a_500():
    door = limits.Limits(None, trusted=[])
    status, payload, seen, _ = call(door, b"[" * 30_000 + b"]" * 30_000)
    assert status == 400 and "nested" in json.loads(payload)["error"] and not seen
    assert call(door, b'{"data": ["' + b"[" * 1000 + b'"]}')[0] == 200  # brackets inside a string are text
    assert limits.json_depth_over(b'[[["]]]]]"]]]', 2) and not limits.json_depth_over(b'{"a": "[[[["}', 2)


def test_uploads_and_slow_bodies_are_refused(monkeypatch):
    door = limits.Limits(None, trusted=[])
    assert call(door, b"abc", path="/gradio_api/upload")[0] == 403
    monkeypatch.setattr(limits, "BODY_DEADLINE_S", 0.05)
    assert call(door, b"{}", stall=True)[0] == 408


# ---------------------------------------------------------------- the cost model and the budget


def test_one_cost_model_prices_rows_orders_draws_and_lanes():
    assert cost.order_factor("burst", 16) == 4.0 and cost.order_factor("exact", 16) == 1.0
    assert cost.price("solve_maze", {"sampler": "burst", "num_orders": 16, "tries": 4}) == 16.0
    assert cost.price("spread_signal", {"n": 64, "sampler": "exact"}) == 64.0
    # the page's fan chart: its 32 draws with its own sampler, whatever the page's settings say
    assert cost.price("signal_spread", {"sampler": "burst", "num_orders": 16}) == 32.0
    assert cost.price("compare", {"samplers": ["sequential", "burst"], "num_orders": 6, "tries": 2}) == 6.0
    # what a client got wrong is priced at its bound, never below
    assert cost.price("solve_maze", {"sampler": "burst", "num_orders": "lots", "tries": 1e9}) == 64.0


def test_a_run_is_bounded_by_positions_rows_and_orders_together():
    check_cost(MAX_COST, Settings(sampler="burst", num_orders=1))
    check_cost(MAX_COST, Settings(sampler="exact", num_orders=16))  # orders matter for burst only
    check_cost(128, Settings(sampler="exact"), rows=64)  # a spread of 64 draws over a whole profile
    with pytest.raises(ValueError, match="fewer tries, draws, orders"):
        check_cost(128, Settings(sampler="burst", num_orders=16), rows=64)  # the spread the issue measured
    with pytest.raises(ValueError, match="fewer tries"):
        check_cost(200, Settings(sampler="burst", num_orders=16, tries=16))  # tries are rows too


def test_the_budget_is_a_token_bucket_with_a_bounded_table():
    b = gate.Budget(capacity=8, per_s=2, max_clients=100)
    assert [b.take("a", 4, now=0) for _ in range(3)] == [0.0, 0.0, 2.0]  # the third waits 2 s for 4 more
    assert b.take("b", 4, now=0) == 0.0  # another client is not affected
    assert b.take("a", 4, now=2.0) == 0.0  # refilled
    assert b.take("a", 9, now=100) == float("inf")  # more than the whole budget: never
    for i in range(1000):
        b.take(f"c{i}", 1, now=200 + i)
    assert len(b.buckets) <= 100


# ---------------------------------------------------------------- through a served app


RAN: list[str] = []


def model_run(maze: str, sampler: str = "exact", num_orders: int = 5, tries: int = 1) -> str:
    """A model run that says which input ran; a flooder's takes 0.8 s, a "long" one steps for up to 5 s, checking
    between steps whether it should stop, as views.runs does."""
    RAN.append(maze)
    if maze == "long":
        start = time.monotonic()
        while time.monotonic() - start < 5 and not (STOPPED.get() or (lambda: False))():
            time.sleep(0.02)
        RAN.append(f"long ran {time.monotonic() - start:.1f} s")
        return maze
    time.sleep(0.8 if maze.startswith("flood") else 0.02)
    return maze


@contextlib.contextmanager
def served(concurrency: int, budget: str, unread_s: float | None = None):
    """`model_run` as /solve_maze behind app.launch, with `concurrency` model slots and a client budget."""
    with gr.Blocks() as demo:
        gr.api(model_run, api_name="solve_maze", concurrency_id="model", concurrency_limit=concurrency)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved, os.environ["SIGMA_CLIENT_BUDGET"] = os.environ.get("SIGMA_CLIENT_BUDGET"), budget
    unread, gate.UNREAD_S = gate.UNREAD_S, gate.UNREAD_S if unread_s is None else unread_s
    try:
        app.launch(demo, prevent_thread_lock=True, quiet=True, server_port=port)
    finally:
        os.environ.pop("SIGMA_CLIENT_BUDGET")
        if saved is not None:
            os.environ["SIGMA_CLIENT_BUDGET"] = saved
        gate.UNREAD_S = unread
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def small_url():
    """A one-endpoint app behind app.launch: budget 6 units, so that 3 single-try runs spend it."""
    with served(2, "6", unread_s=0.3) as url:
        yield url


def stranger(address: str) -> httpx.Client:
    """A client connecting from its own loopback address."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_forged_headers_do_not_make_new_clients(small_url):
    with stranger("127.0.0.3") as h:
        codes = [
            h.post(
                small_url + "gradio_api/call/solve_maze",
                json={"data": [f"f{i}"]},
                headers={"X-Forwarded-For": f"10.0.0.{i}"},
            ).status_code
            for i in range(8)
        ]
    assert codes.count(200) == 3 and codes.count(429) == 5  # 2 units each (1 run + 1 new session): 3 of 8


def test_a_trailing_slash_and_a_string_fn_index_are_counted_as_what_gradio_runs(small_url):
    with stranger("127.0.0.4") as h:
        slash = []
        for _ in range(5):  # one at a time: the runs finish, so only the budget refuses
            slash.append(h.post(small_url + "gradio_api/call/solve_maze/", json={"data": ["s"]}))
            time.sleep(0.1)
    assert [r.status_code for r in slash].count(200) == 3
    refused = next(r for r in slash if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "wait" in refused.json()["detail"]
    with stranger("127.0.0.5") as h:
        index = h.get(small_url + "gradio_api/info").status_code and _fn_index(h, small_url)
        body = {"data": ["j", "exact", 5, 1], "fn_index": str(index), "session_hash": "abc"}
        codes = []
        for _ in range(8):  # one at a time: the runs finish, so only the budget refuses
            codes.append(h.post(small_url + "gradio_api/queue/join", json=body).status_code)
            time.sleep(0.1)
    assert codes.count(200) == 5  # 1 + 1 for the new session, then 1 a run: 5 of 8 within 6 units
    assert codes.count(429) == 3


def _fn_index(h: httpx.Client, url: str) -> int:
    config = h.get(url + "config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "solve_maze")


def test_run_is_closed_and_a_costly_request_is_priced_by_its_tries(small_url):
    with stranger("127.0.0.6") as h:
        assert h.post(small_url + "gradio_api/run/solve_maze", json={"data": ["r"]}).status_code != 200
        assert "r" not in RAN
        big = h.post(small_url + "gradio_api/call/solve_maze", json={"data": ["t", "burst", 16, 16]})
        assert big.status_code == 400 and "budget" in big.json()["detail"]
        ok = h.post(small_url + "gradio_api/call/solve_maze", json={"data": ["t", "exact", 5, 4]})
        assert ok.status_code == 200  # 4 + 1 for the session
        assert h.post(small_url + "gradio_api/call/solve_maze", json={"data": ["t"]}).status_code == 429


def test_the_served_door_refuses_deep_json_uploads_and_oversize_bodies(small_url):
    with stranger("127.0.0.7") as h:
        deep = h.post(small_url + "gradio_api/queue/join", content=b"[" * 30_000 + b"]" * 30_000)
        assert deep.status_code == 400 and "nested" in deep.json()["error"]
        assert h.post(small_url + "gradio_api/upload", files={"files": ("a.bin", b"\0")}).status_code == 403
        assert h.post(small_url + "gradio_api/queue/join", content=b"{" + b" " * 200_000 + b"}").status_code == 413


def post_and_read(address: str, url: str, tag: str, read: bool, out: dict, posted: threading.Event) -> None:
    with stranger(address) as h:
        r = h.post(url + "gradio_api/call/solve_maze", json={"data": [tag]})
        out[tag] = r.status_code
        posted.set()
        if read and r.status_code == 200:
            out[tag] = h.get(url + f"gradio_api/call/solve_maze/{r.json()['event_id']}").text


def test_waiting_runs_are_served_in_turn_and_unread_ones_dropped(small_url):
    RAN.clear()
    out: dict = {}
    # two flooders fill both slots (0.8 s runs) and queue one more run each; then a run nobody reads, then the
    # victim's: first in first out would run the victim fifth
    clients = [("127.0.0.10", "flood0-0"), ("127.0.0.11", "flood1-0"), ("127.0.0.10", "flood0-1")]
    clients += [("127.0.0.11", "flood1-1"), ("127.0.0.13", "unread"), ("127.0.0.12", "victim")]
    threads = []
    for address, tag in clients:
        posted = threading.Event()
        threads.append(
            threading.Thread(target=post_and_read, args=(address, small_url, tag, tag != "unread", out, posted))
        )
        threads[-1].start()
        assert posted.wait(5)
    for t in threads:
        t.join()
    time.sleep(0.5)
    assert RAN.index("victim") == 2  # only the runs that held the slots before it
    assert "unread" not in RAN and out["unread"] == 200  # accepted, never read: dropped before it ran


def test_a_run_nobody_reads_never_starts_even_with_free_slots(small_url):
    RAN.clear()
    with stranger("127.0.0.15") as h:
        assert h.post(small_url + "gradio_api/call/solve_maze", json={"data": ["ghost"]}).status_code == 200
    time.sleep(0.3 + 0.7)  # past the gate's unread_s of this app (0.3 s): dropped by now
    assert "ghost" not in RAN


def test_a_run_whose_reader_leaves_stops_at_its_next_step(small_url):
    RAN.clear()
    with stranger("127.0.0.14") as h:
        event = h.post(small_url + "gradio_api/call/solve_maze", json={"data": ["long"]}).json()["event_id"]
        with h.stream("GET", small_url + f"gradio_api/call/solve_maze/{event}"):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and "long" not in RAN:  # it starts once its stream is open
                time.sleep(0.02)
        assert "long" in RAN
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(RAN) < 2:
        time.sleep(0.05)
    seconds = float(RAN[-1].split()[2])
    assert seconds < gate.STOP_S + 0.5  # at most STOP_S after its reader left, not the whole 5 s


@pytest.fixture(scope="module")
def express_url():
    """The same endpoint with the app's slots (views/layout.CONCURRENCY) and a budget that affords large runs."""
    from views.layout import CONCURRENCY

    with served(CONCURRENCY, "64") as url:
        yield url


def test_large_runs_leave_the_last_slot_to_small_ones(express_url):
    RAN.clear()
    out: dict = {}

    def run(address: str, tag: str, tries: int, posted: threading.Event) -> None:
        with stranger(address) as h:
            r = h.post(express_url + "gradio_api/call/solve_maze", json={"data": [tag, "exact", 5, tries]})
            posted.set()
            out[tag] = h.get(express_url + f"gradio_api/call/solve_maze/{r.json()['event_id']}").text

    # three strangers each send a run of 16 tries (price 16, 0.8 s); then a user's single try. Two large runs
    # take two slots, the third waits however free the last slot is; the user's run takes it at once.
    jobs = [("127.0.0.20", "flood-a", 16), ("127.0.0.21", "flood-b", 16), ("127.0.0.22", "flood-c", 16)]
    jobs += [("127.0.0.23", "small", 1)]
    threads = []
    for address, tag, tries in jobs:
        posted = threading.Event()
        threads.append(threading.Thread(target=run, args=(address, tag, tries, posted)))
        threads[-1].start()
        assert posted.wait(5)
    for t in threads:
        t.join()
    assert set(RAN[:2]) == {"flood-a", "flood-b"} and RAN[2] == "small" and RAN[3] == "flood-c"
    assert all("complete" in out[tag] for tag in out), out


def test_idle_and_slow_header_connections_are_closed(small_url, monkeypatch):
    monkeypatch.setattr(limits, "HEADER_DEADLINE_S", 0.5)
    host, port = small_url.removeprefix("http://").strip("/").split(":")

    def closed_after(send: bytes) -> bool:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            if send:
                s.sendall(send)
            s.settimeout(3)
            try:
                return s.recv(1024) == b""  # the server hung up
            except TimeoutError:
                return False

    assert closed_after(b"")  # connected and said nothing
    assert closed_after(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers that never end (slowloris)
    with httpx.Client(timeout=5) as h:  # a real request on a fresh connection still gets its answer
        assert h.get(small_url + "gradio_api/info").status_code == 200

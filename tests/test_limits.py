"""The limits in front of the app (views/limits.py) and the per-run cost limit, on their own and through the
served app."""

import asyncio
import json

import httpx
import pytest

from sigma.settings import Settings
from views import limits
from views.runs import MAX_COST, check_cost


def test_the_rate_window_caps_each_client_and_forgets_after_the_window():
    w = limits.RateWindow(limit=3, window_s=10.0)
    assert [w.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert w.allow("b", now=3)  # another client is not affected
    assert w.allow("a", now=10.5)  # the first run left the window


def call(middleware: limits.Limits, body: bytes, path: str = "/gradio_api/queue/join", chunks: int = 1):
    """One POST through the middleware to an app that echoes the body length; (status, payload)."""
    seen = {}

    async def app(scope, receive, send):
        message = await receive()
        seen["body"] = message["body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    parts = [body[i::chunks] for i in range(chunks)] if chunks > 1 else [body]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    headers = [] if chunks > 1 else [(b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("1.2.3.4", 5)}
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    middleware.app = app
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], seen.get("body")


def test_oversize_bodies_are_refused_before_the_app_sees_them_declared_or_chunked():
    guard = limits.Limits(None, is_model_run=lambda body, path: False)
    big = b"x" * (limits.MAX_BODY_BYTES + 1)
    for chunks in (1, 4):
        status, payload, seen = call(guard, big, chunks=chunks)
        assert status == 413 and "larger than 64 KB" in json.loads(payload)["error"] and seen is None
    status, _, seen = call(guard, b'{"fn_index": 3}')
    assert status == 200 and seen == b'{"fn_index": 3}'  # the app gets the body it was sent


def test_only_model_runs_count_towards_a_clients_cap():
    guard = limits.Limits(None, lambda body, path: body.get("fn_index") == 7, limits.RateWindow(2, 60.0))
    assert [call(guard, b'{"fn_index": 1}')[0] for _ in range(5)] == [200] * 5  # edits are never counted
    statuses = [call(guard, b'{"fn_index": 7}')[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "Too many requests" in json.loads(call(guard, b'{"fn_index": 7}')[1])["error"]


def test_a_costly_burst_run_is_refused_with_what_to_lower():
    check_cost(MAX_COST, Settings(sampler="burst", num_orders=1))
    check_cost(MAX_COST, Settings(sampler="exact", num_orders=16))  # orders matter for burst only
    with pytest.raises(ValueError, match="fewer orders or fewer blanks"):
        check_cost(256, Settings(sampler="burst", num_orders=16))


def test_the_served_app_refuses_an_oversize_body(studio_url):
    r = httpx.post(studio_url + "gradio_api/queue/join", content=b"{" + b" " * 200_000 + b"}")
    assert r.status_code == 413 and "64 KB" in r.json()["error"]

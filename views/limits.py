"""Limits in front of the app, so that one client cannot take a small shared Space down or starve others.

An ASGI middleware (passed to Gradio's FastAPI app through `launch(app_kwargs=...)`) that
- refuses a request body over MAX_BODY_BYTES before Gradio reads or keeps any of it (413): the largest
  legitimate request, a 4000-character passage, is a few kilobytes;
- lets one client (by address) start at most MODEL_JOBS model runs per WINDOW_S seconds (429, with a
  plain "wait" message): a flood of API calls from one client is refused at the door instead of filling
  the shared queue, and everyone else keeps their place. Edits of the page (clicks, typing) are not model
  runs and are never counted.

Behind a proxy (a Hugging Face Space) the client is the last address of X-Forwarded-For, the one the
proxy itself saw (the earlier ones are whatever the client chose to send).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

MAX_BODY_BYTES = 64 * 1024
MODEL_JOBS = 4
WINDOW_S = 6.0
TOO_LARGE = f"The request is larger than {MAX_BODY_BYTES // 1024} KB; send a shorter input."
TOO_MANY = f"Too many requests from your address: at most {MODEL_JOBS} runs per {WINDOW_S:.0f} s. Wait and try again."


class RateWindow:
    """Timestamps of each client's recent model runs; `allow` records one if the client is under the cap."""

    def __init__(self, limit: int = MODEL_JOBS, window_s: float = WINDOW_S):
        self.limit, self.window_s = limit, window_s
        self.seen: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            times = self.seen[client]
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            if len(self.seen) > 10_000:  # forget idle clients, so the table itself stays small
                for key in [k for k, v in self.seen.items() if not v]:
                    del self.seen[key]
            return True


class Limits:
    """The middleware. `is_model_run(body, path)` says whether a request starts a model run."""

    def __init__(self, app, is_model_run: Callable[[dict, str], bool], window: RateWindow | None = None):
        self.app, self.is_model_run, self.window = app, is_model_run, window or RateWindow()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            return await _refuse(send, 413, TOO_LARGE)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                return await _refuse(send, 413, TOO_LARGE)
        if self.is_model_run(_json(body), scope["path"]) and not self.window.allow(_client(scope, headers)):
            return await _refuse(send, 429, TOO_MANY)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _client(scope, headers: dict) -> str:
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")[-1].strip()
    return forwarded or (scope.get("client") or ("?",))[0]


async def _refuse(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message, "detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})

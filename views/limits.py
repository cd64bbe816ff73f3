"""The door: an ASGI middleware in front of Gradio that says who a client is and refuses what no client needs.

Passed to Gradio's FastAPI app through `launch(app_kwargs=...)`, it
- names the client (`client_of`): the socket peer; X-Forwarded-For only when that peer is a trusted proxy
  (SIGMA_TRUSTED_PROXIES, addresses or networks, comma-separated), and then the right-most address that is not
  itself a trusted proxy: everything left of it is whatever the client chose to send. On a Hugging Face Space
  (SPACE_ID set) the default is the private networks, where the platform's proxy connects from; elsewhere no
  proxy is trusted. The name goes into the request's scope for the gate (views/gate.py), which prices and
  queues what Gradio resolved, after routing;
- refuses a body over MAX_BODY_BYTES before Gradio reads or keeps any of it (413), one that takes longer than
  BODY_DEADLINE_S to arrive (408), and JSON nested deeper than MAX_DEPTH (400; Python's parser would
  recurse out of its stack on a 30 000-level body and answer 500);
- refuses uploads (403): the app takes no files;
- closes a connection whose request headers have not all arrived HEADER_DEADLINE_S after it opened or after its
  last response (`header_deadline`, on the HTTP/1.1 server itself: the middleware only ever sees whole headers);
- keeps `Streams`: which sessions and events a client is reading right now, so that the gate can drop
  queued work nobody reads.

Each refusal is one short log line with the client's address escaped; nothing a client sends reaches the log
raw or produces a traceback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

log = logging.getLogger("studio.limits")

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 64  # JSON nesting: the deepest real request is a list inside the data list
BODY_DEADLINE_S = 10.0  # a whole body must arrive within this (a slow sender holds a connection)
HEADER_DEADLINE_S = 10.0  # and a request's headers, from the connection or the last response on it
PRIVATE = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
TOO_LARGE = f"The request is larger than {MAX_BODY_BYTES // 1024} KB; send a shorter input."
TOO_DEEP = f"The request's JSON is nested more than {MAX_DEPTH} levels deep."
TOO_SLOW = f"The request's body took more than {BODY_DEADLINE_S:.0f} s to arrive."
NO_UPLOADS = "This app takes no uploads."
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(environ: dict | None = None) -> list[Network]:
    """The networks whose X-Forwarded-For is believed: SIGMA_TRUSTED_PROXIES, else (on a Space) the private
    networks, else none. A bad entry is a startup error, not a silently open door."""
    environ = os.environ if environ is None else environ
    default = PRIVATE if environ.get("SPACE_ID") else ""
    text = environ.get("SIGMA_TRUSTED_PROXIES", default)
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def _trusted(address: str, trusted: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_of(scope: dict, trusted: list[Network]) -> str:
    """The client's address: the socket peer, or, when the peer is a trusted proxy, the right-most address of
    X-Forwarded-For that is not a trusted proxy (the one the first trusted hop saw).

    peer 127.0.0.1, nothing trusted, X-Forwarded-For "1.2.3.4" -> "127.0.0.1"
    peer 10.0.0.5, 10.0.0.0/8 trusted, X-Forwarded-For "6.6.6.6, 1.2.3.4, 10.0.0.9" -> "1.2.3.4"
    """
    peer = (scope.get("client") or ("?",))[0]
    if not _trusted(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(hops):
        if hop and not _trusted(hop, trusted):
            return _short(hop)
    return peer


def json_depth_over(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests brackets deeper than `limit`, without parsing it (strings are skipped).

    json_depth_over(b'[[["]]]]]"]]]', 2) -> True;  json_depth_over(b'{"a": "[[[["}', 2) -> False
    """
    bare = _STRINGS.sub(b'""', body)
    depth = 0
    for char in _BRACKETS.findall(bare):
        depth += 1 if char in b"[{" else -1
        if depth > limit:
            return True
    return False


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class Streams:
    """What clients are reading now: session hashes (the queue's event stream) and event ids (a `/call/`
    result stream), each with how many connections hold it and when the last one closed."""

    def __init__(self):
        self.open: Counter[str] = Counter()
        self.closed_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def opened(self, key: str) -> None:
        with self.lock:
            self.open[key] += 1

    def closed(self, key: str, now: float | None = None) -> None:
        with self.lock:
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]
                self.closed_at[key] = time.monotonic() if now is None else now
                if len(self.closed_at) > 10_000:  # forget the oldest half
                    for old in list(self.closed_at)[:5_000]:
                        del self.closed_at[old]

    def reading(self, *keys: str) -> bool:
        return any(key in self.open for key in keys)

    def since_closed(self, *keys: str, now: float | None = None) -> float | None:
        """Seconds since the last stream of any of `keys` closed; None when one is open or none was seen."""
        if self.reading(*keys):
            return None
        times = [self.closed_at[k] for k in keys if k in self.closed_at]
        return None if not times else (time.monotonic() if now is None else now) - max(times)


def _stream_key(scope: dict) -> str | None:
    """The session or event a GET reads: /queue/data?session_hash=S, or /call/<name>/<event id>."""
    path = scope.get("path", "")
    if path.endswith("/queue/data"):
        hashes = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash")
        return hashes[0][:64] if hashes else None
    parts = path.rstrip("/").split("/")
    if len(parts) >= 3 and "call" in parts[:-2]:
        return parts[-1][:64]
    return None


class Limits:
    """The middleware; `streams` is shared with the gate."""

    def __init__(self, app, trusted: list[Network] | None = None, streams: Streams | None = None):
        self.app, self.streams = app, streams or Streams()
        self.trusted = trusted_proxies() if trusted is None else trusted

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = client_of(scope, self.trusted)
        scope["sigma.client"] = client
        if scope["method"] == "GET":
            key = _stream_key(scope)
            if key is None:
                return await self.app(scope, receive, send)
            self.streams.opened(key)
            try:
                return await self.app(scope, receive, send)
            finally:
                self.streams.closed(key)
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        if scope.get("path", "").rstrip("/").endswith("/upload"):
            return await refuse(send, 403, NO_UPLOADS, client)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            return await refuse(send, 413, TOO_LARGE, client)
        try:
            body = await asyncio.wait_for(_read(receive), BODY_DEADLINE_S)
        except TimeoutError:
            return await refuse(send, 408, TOO_SLOW, client)
        if body is None:  # the client left
            return None
        if len(body) > MAX_BODY_BYTES:
            return await refuse(send, 413, TOO_LARGE, client)
        if json_depth_over(body):
            return await refuse(send, 400, TOO_DEEP, client)

        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def _read(receive) -> bytes | None:
    """The whole body, stopping one byte past the limit; None if the client disconnects first."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            break
    return body


def refusal_line(status: int, client: str, message: str) -> str:
    """The one log line of a refusal: the client's address escaped and cut short, never raw input.

    refusal_line(429, "1.2.3.4", "Wait") -> 'refused 429 for \\'1.2.3.4\\': Wait'
    """
    return f"refused {status} for {_short(client)!r}: {message[:160]}"


async def refuse(send, status: int, message: str, client: str, retry_after: float | None = None) -> None:
    """Answer with a JSON error ({"error", "detail"}), Retry-After when there is something to wait for."""
    log.info(refusal_line(status, client, message))
    payload = json.dumps({"error": message, "detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _short(text: str, n: int = 64) -> str:
    return text if len(text) <= n else text[:n] + "…"


def header_deadline() -> None:
    """Close HTTP/1.1 connections that send no complete request headers within HEADER_DEADLINE_S of opening or
    of their last response: uvicorn's h11 server waits for them forever, so idle and slowloris connections
    were held indefinitely. A connection streaming a response, or receiving a body, is never touched (the
    body has its own deadline). Installed once per process on uvicorn's h11 protocol; idempotent."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    if getattr(H11Protocol, "sigma_header_deadline", False):
        return
    opened, completed = H11Protocol.connection_made, H11Protocol.on_response_complete

    def arm(protocol) -> None:
        protocol.sigma_phase = getattr(protocol, "sigma_phase", 0) + 1
        protocol.loop.call_later(HEADER_DEADLINE_S, fire, protocol, protocol.sigma_phase)

    def fire(protocol, phase: int) -> None:
        waiting = protocol.sigma_phase == phase and protocol.conn.their_state is h11.IDLE
        if waiting and not protocol.transport.is_closing():
            log.info(refusal_line(408, (protocol.client or ("?",))[0], "no request headers in time: closed"))
            protocol.transport.close()

    def connection_made(self, transport) -> None:
        opened(self, transport)
        arm(self)

    def on_response_complete(self) -> None:
        completed(self)
        arm(self)

    H11Protocol.connection_made, H11Protocol.on_response_complete = connection_made, on_response_complete
    H11Protocol.sigma_header_deadline = True

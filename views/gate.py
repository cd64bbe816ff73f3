"""The gate: a per-client budget and a fair order for everything Gradio queues.

Installed on the app's queue (`Gate.install(demo)`) after Gradio has routed a request: whatever path or form
it came by (`/call/<name>/`, `queue/join` with `fn_index` as a number or a string), the gate sees the
function Gradio resolved. `/run/` and `/api/` are closed to queued functions by `queue(api_open=False)`.

- Every queued event is priced (views/cost.py) and paid from its client's `Budget`, a token bucket: a model
  run its rows times its order factor, any other event (an edit, an animation, a replay) EVENT_COST, and a
  session the client has not used before NEW_SESSION. A client past its budget gets 429 with Retry-After.
- A client has at most QUEUED_MODEL model runs and QUEUED_OTHER other events waiting; a full queue refuses
  the newcomer (503 with Retry-After), never the waiting.
- The model slots are served round-robin: the next run is the waiting one whose client was served longest
  ago, so a client with a run waiting never waits behind more than one run of each other client.
- Runs priced above SMALL_PRICE hold at most LARGE_SLOTS of the slots at once: the last slot is kept for small
  runs (a default maze solve or text fill), so a user's quick run never waits behind long spreads and races.
- A model run starts only once its client reads its results (a stream is open for it): one nobody has opened
  UNREAD_S after it was queued is dropped without costing any model work; a running one whose reader left
  stops at its next step, STOP_S later (views.runs.STOPPED).
- A client keeps at most SESSIONS sessions in Gradio's session store: a flood of new sessions evicts the
  flooder's own oldest, not someone else's.

The client table is bounded (MAX_CLIENTS; full buckets are forgotten first). Refusals are one log line each.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import fastapi
from gradio.server_messages import ProcessCompletedMessage

from views import cost, limits, runs

log = logging.getLogger("studio.gate")

BUDGET = 64.0  # the most a client can spend at once, in rows (views/cost.py): a spread of 64 draws
REFILL_PER_S = 5.0  # and how fast it comes back: a default run (8 tries) in a new session every 2 s, with room
NEW_SESSION = 1.0
QUEUED_MODEL = 2
QUEUED_OTHER = 8
MAX_QUEUE = 128
UNREAD_S = 5.0
STOP_S = 0.5  # a running run whose reader left stops this long after, at its next step
SESSIONS = 16
SMALL_PRICE = 8.0  # a run priced at most this (the maze and text defaults: 8 tries) may take any slot
LARGE_SLOTS = 2  # the slots that larger runs may hold at once; views/layout.CONCURRENCY has one more
MAX_CLIENTS = 10_000


class Budget:
    """A token bucket per client: `take(client, units)` spends them, or says how long to wait for them."""

    def __init__(self, capacity: float = BUDGET, per_s: float = REFILL_PER_S, max_clients: int = MAX_CLIENTS):
        self.capacity, self.per_s, self.max_clients = capacity, per_s, max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self.lock = threading.Lock()

    def level(self, client: str, now: float) -> float:
        tokens, at = self.buckets.get(client, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.per_s)

    def take(self, client: str, units: float, now: float | None = None) -> float:
        """0.0 when `units` were spent; otherwise the seconds until they will be there (inf: never, the
        request costs more than the whole budget)."""
        now = time.monotonic() if now is None else now
        if units > self.capacity:
            return math.inf
        with self.lock:
            tokens = self.level(client, now)
            if tokens < units:
                return (units - tokens) / self.per_s
            self.buckets[client] = (tokens - units, now)
            self.buckets.move_to_end(client)
            if len(self.buckets) > self.max_clients:
                self._forget(now)
            return 0.0

    def _forget(self, now: float) -> None:
        """Drop clients whose bucket is full again (they are owed nothing), else the least recent."""
        full = [c for c, (tokens, at) in self.buckets.items() if tokens + (now - at) * self.per_s >= self.capacity]
        for client in full[: max(1, len(self.buckets) - self.max_clients // 2)]:
            del self.buckets[client]
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)


class Refused(fastapi.HTTPException):
    """A refusal at the gate: its status, a sentence, and Retry-After when waiting helps."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        headers = None if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}
        super().__init__(status_code=status, detail=message, headers=headers)


class Gate:
    def __init__(
        self,
        budget: Budget | None = None,
        streams: limits.Streams | None = None,
        trusted: list | None = None,
        queued_model: int | None = None,
        unread_s: float | None = None,
    ):
        self.budget = budget or Budget()
        self.streams = streams or limits.Streams()
        self.trusted = limits.trusted_proxies() if trusted is None else trusted
        self.queued_model = QUEUED_MODEL if queued_model is None else queued_model
        self.unread_s = UNREAD_S if unread_s is None else unread_s
        self.served: dict[str, float] = {}  # client -> when its last model run started
        self.large_running = 0  # model runs priced above SMALL_PRICE that hold a slot now
        self.sessions: OrderedDict[str, deque[str]] = OrderedDict()  # client -> its recent session hashes
        self.params: dict[int, list[str]] = {}  # model fn index -> its parameter names, in input order
        self.defaults: dict[int, list[tuple[str, object]]] = {}  # ... and their defaults

    # ------------------------------------------------------------ installation

    def install(self, demo) -> Gate:
        """Wrap the queue of `demo` (after `demo.queue(...)`): its `push` pays and admits, its `get_events`
        drops unread runs and serves clients in turn."""
        queue = demo._queue
        self.blocks, self.queue = demo, queue
        for index, fn in demo.fns.items():
            if fn.concurrency_id == "model":
                self.defaults[index] = _parameters(fn.fn)
                self.params[index] = [name for name, _ in self.defaults[index]]
        push, get_events = queue.push, queue.get_events

        async def gated_push(body, request, username):
            client, price = self.admit(body, request)
            result = await push(body, request, username)
            ok, event_id, _ = result
            event = queue.event_ids_to_events.get(event_id) if ok and isinstance(event_id, str) else None
            if event is not None:
                event.sigma_client, event.sigma_price = client, price
            return result

        def fair_get_events():
            self.drop_unread()
            self.reorder()
            held = self.hold_large() + self.hold_unread()
            try:
                got = get_events()
            finally:
                self.model_queue().extend(held)  # back in line; the next reorder puts them in turn
            if got:
                events, _, concurrency_id = got
                if concurrency_id == "model":
                    now = time.monotonic()
                    for event in events:
                        self.served[getattr(event, "sigma_client", "?")] = now
                    self.large_running += sum(is_large(e) for e in events)  # as Gradio counts its slots: now
            return got

        process_events = queue.process_events

        async def watched_process_events(events, *args, **kwargs):
            if not events or events[0].fn.concurrency_id != "model":
                return await process_events(events, *args, **kwargs)
            runs.STOPPED.set(self.stopped(events[0]))  # this task's context: the run's thread inherits it
            try:
                return await process_events(events, *args, **kwargs)
            finally:
                self.large_running -= sum(is_large(e) for e in events)

        queue.push, queue.get_events, queue.process_events = gated_push, fair_get_events, watched_process_events
        return self

    # ------------------------------------------------------------ admission

    def admit(self, body, request) -> tuple[str, float]:
        """Price the event Gradio resolved and charge its client: (client, the run's price); raise `Refused`
        (429/503/400) if not."""
        client = request.scope.get("sigma.client") or limits.client_of(request.scope, self.trusted)
        index = body.fn_index
        fn = self.blocks.fns.get(index) if isinstance(index, int) else None
        if fn is None:
            self._refuse(400, client, "There is no such event.")
        model = index in self.params
        waiting = sum(
            1
            for q in self.queue.event_queue_per_concurrency_id.values()
            for e in q.queue
            if getattr(e, "sigma_client", None) == client and (e.fn.concurrency_id == "model") == model
        )
        if waiting >= (self.queued_model if model else QUEUED_OTHER):
            self._refuse(429, client, "You already have runs waiting; wait for them to finish.", 2.0)
        if len(self.queue) >= MAX_QUEUE:
            self._refuse(503, client, "The queue is full; try again in a few seconds.", 5.0)
        if model:
            body.data = self._filled(index, body.data, client)
        name = fn.api_name or fn.name
        units = cost.price(name, dict(zip(self.params[index], body.data or [], strict=False))) if model else 0.0
        units += 0.0 if model else cost.EVENT_COST
        new_session = body.session_hash is None or body.session_hash not in self.sessions.get(client, ())
        run_units = units
        units += NEW_SESSION if new_session else 0.0
        # more than the whole budget: never (a new session's price alone never tips a run over)
        wait = (
            math.inf if run_units > self.budget.capacity else self.budget.take(client, min(units, self.budget.capacity))
        )
        if wait == math.inf:
            self._refuse(
                400,
                client,
                f"This run costs {units:g} units, more than one client's budget of "
                f"{self.budget.capacity:g}: ask for fewer tries, draws, orders or samplers.",
            )
        if wait:
            self._refuse(429, client, f"Too many runs from your address: wait {math.ceil(wait)} s.", wait)
        if new_session and body.session_hash is not None:
            self._remember_session(client, body.session_hash)
        return client, run_units

    def _filled(self, index: int, data: list | None, client: str) -> list:
        """The arguments with the defaults of those left out (a raw `/call/` may send only the first); a left-out
        argument without a default is refused with its name."""
        data = list(data or [])
        missing = self.defaults[index][len(data) :]
        for name, default in missing:
            if default is inspect.Parameter.empty:
                self._refuse(400, client, f"The argument {name!r} is missing.")
            data.append(default)
        return data

    def _refuse(self, status: int, client: str, message: str, retry_after: float | None = None):
        log.info(limits.refusal_line(status, client, message))
        raise Refused(status, message, retry_after)

    def _remember_session(self, client: str, session: str) -> None:
        """Note the client's new session; past SESSIONS, its oldest leaves Gradio's session store."""
        mine = self.sessions.setdefault(client, deque())
        self.sessions.move_to_end(client)
        mine.append(session)
        while len(mine) > SESSIONS:
            _evict(self.blocks, mine.popleft())
        while len(self.sessions) > MAX_CLIENTS:
            self.sessions.popitem(last=False)

    def stopped(self, event) -> Callable[[], bool]:
        """The run's cancellation check (views.runs.STOPPED): true once nobody has read it for STOP_S (it started
        with a reader: `hold_unread`)."""
        grace = {"until": time.monotonic() + STOP_S}

        def check() -> bool:
            now = time.monotonic()
            if self.streams.reading(event.session_hash, event._id):
                grace["until"] = now + STOP_S
                return False
            if now > grace["until"]:
                log.info(limits.refusal_line(499, getattr(event, "sigma_client", "?"), "stopped: nobody reads it"))
                return True
            return False

        return check

    # ------------------------------------------------------------ order

    def model_queue(self) -> list:
        q = self.queue.event_queue_per_concurrency_id.get("model")
        return q.queue if q is not None else []

    def reorder(self) -> None:
        """Waiting model runs in turn: the client served longest ago first, each client's runs in their order."""
        waiting = self.model_queue()
        seen: dict[str, int] = {}
        keys = {}
        for e in waiting:
            client = getattr(e, "sigma_client", "?")
            seen[client] = seen.get(client, 0) + 1
            keys[e._id] = (seen[client], self.served.get(client, 0.0), e.enqueue_time)
        waiting.sort(key=lambda e: keys[e._id])

    def hold_large(self) -> list:
        """Take the waiting large runs out of line while LARGE_SLOTS of them run, so that the free slot goes to
        a small one; the caller puts them back."""
        if self.large_running < LARGE_SLOTS:
            return []
        waiting = self.model_queue()
        held = [e for e in waiting if is_large(e)]
        for e in held:
            waiting.remove(e)
        return held

    def hold_unread(self) -> list:
        """Take the waiting model runs that nobody reads yet out of line, so that no model work is done for a
        client who is not there; the caller puts them back (drop_unread ends them after `unread_s`)."""
        waiting = self.model_queue()
        held = [e for e in waiting if not self.streams.reading(e.session_hash, e._id)]
        for e in held:
            waiting.remove(e)
        return held

    def drop_unread(self, now: float | None = None) -> list:
        """Remove waiting model runs whose client opened no stream for them within `unread_s` of queueing."""
        now = time.monotonic() if now is None else now
        waiting = self.model_queue()
        dropped = [
            e
            for e in waiting
            if now - e.enqueue_time > self.unread_s and not self.streams.reading(e.session_hash, e._id)
        ]
        for e in dropped:
            waiting.remove(e)
            self.queue.event_ids_to_events.pop(e._id, None)
            message = "Dropped: nobody opened this run's results."
            log.info(limits.refusal_line(410, getattr(e, "sigma_client", "?"), message))
            self.queue.send_message(e, ProcessCompletedMessage(output={"error": message}, success=False))
        return dropped


def is_large(event) -> bool:
    """A model run priced above SMALL_PRICE (unpriced: large)."""
    return getattr(event, "sigma_price", math.inf) > SMALL_PRICE


def _parameters(fn) -> list[tuple[str, object]]:
    """The inputs a handler takes, in order, with their defaults (Gradio's special arguments left out)."""
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = getattr(p.annotation, "__name__", str(p.annotation))
        if "EventData" in kind or "Request" in kind or "Progress" in kind:
            continue
        params.append((p.name, p.default))
    return params


def _evict(blocks, session: str) -> None:
    holder = getattr(blocks, "state_holder", None)
    if holder is None:
        return
    with holder.lock:
        holder.session_data.pop(session, None)
        holder.time_last_used.pop(session, None)


def from_environ(environ, streams: limits.Streams, trusted: list) -> Gate:
    """The gate the environment asks for: SIGMA_CLIENT_BUDGET units per client (refilled over the same 12.8 s);
    SIGMA_RUNS_PER_CLIENT=N makes one address stand for N default clients (N x 4 units, N runs waiting):
    tests set it, since every test client is 127.0.0.1."""
    many = int(environ.get("SIGMA_RUNS_PER_CLIENT") or 0)
    capacity = float(environ.get("SIGMA_CLIENT_BUDGET") or 0) or (4.0 * many if many else BUDGET)
    budget = Budget(capacity, per_s=capacity / (BUDGET / REFILL_PER_S))
    return Gate(budget, streams, trusted, queued_model=max(QUEUED_MODEL, many))

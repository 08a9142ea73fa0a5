"""A real HTTP server on loopback standing in for ERP, LIMS, QMS or WMS.

It records every request, accepts each Idempotency-Key once (a retry of an accepted message is
answered 200 again and counted as a replay, as a careful receiver would), and can be told to
fail a share of requests, fail the next N, answer slowly (all, or a share of requests much more
slowly: time-outs) or go down and come back up on the same port. It counts a request that
arrives while another with the same key is still being answered (`overlaps`): a second send while
the first may still be in flight. It also serves production plans on GET /plans for the ERP pull.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PeerState:
    def __init__(self, seed: int = 7):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}  # idempotency key -> body
        self.accept_counts: Counter = Counter()
        self.replays = 0
        self.failures = 0
        self.fail_rate = 0.0
        self.fail_next = 0
        self.fail_status = 500
        self.delay = 0.0
        self.slow_rate = 0.0  # this share of requests takes `slow_delay` instead of `delay`
        self.slow_delay = 0.0
        self.in_flight: Counter = Counter()  # idempotency key -> requests being answered now
        self.overlaps = 0
        self.plans: list[dict] = []

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.accepted.clear()
            self.accept_counts.clear()
            self.replays = self.failures = self.fail_next = 0
            self.fail_rate, self.delay, self.slow_rate, self.slow_delay = 0.0, 0.0, 0.0, 0.0
            self.in_flight.clear()
            self.overlaps = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the MES client expects

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle + delayed ACK adds 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # quiet
        pass

    @property
    def state(self) -> PeerState:
        return self.server.state

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        with self.state.lock:
            self.state.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
            plans = list(self.state.plans)
        if self.path.startswith("/plans"):
            self._reply(200, {"plans": plans})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        state = self.state
        key = self.headers.get("Idempotency-Key", "")
        with state.lock:
            if state.in_flight[key]:
                state.overlaps += 1
            state.in_flight[key] += 1
            slow = state.slow_rate and state.random.random() < state.slow_rate
        try:
            delay = state.slow_delay if slow else state.delay
            if delay:
                time.sleep(delay)
            self._accept(state, key, raw)
        finally:
            with state.lock:
                state.in_flight[key] -= 1

    def _accept(self, state: PeerState, key: str, raw: bytes) -> None:
        with state.lock:
            state.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "key": key})
            fail = state.fail_next > 0 or (state.fail_rate and state.random.random() < state.fail_rate)
            if state.fail_next > 0:
                state.fail_next -= 1
            if fail:
                state.failures += 1
            elif key in state.accepted:
                state.replays += 1
            else:
                state.accepted[key] = json.loads(raw or b"null")
                state.accept_counts[key] += 1
        if fail:
            self._reply(state.fail_status, {"error": "peer told to fail"})
        else:
            self._reply(200, {"accepted": key})


class Peer:
    """`with Peer() as peer:` -> peer.url, peer.state; peer.stop() / peer.start() for down/up."""

    def __init__(self, port: int = 0):
        self.state = PeerState()
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Peer:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.state = self.state
        self.port = server.server_address[1]
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Peer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what arrived ---
    def accepted_keys(self) -> list[str]:
        with self.state.lock:
            return list(self.state.accepted)

    def resent(self) -> int:
        """Messages the MES sent again after they had been accepted (answered from the key)."""
        with self.state.lock:
            return self.state.replays

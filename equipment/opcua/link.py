"""OPC UA client links: one asyncua Client per endpoint, reused across polls in a worker process.

asyncua is asynchronous; Celery tasks and services are not. Each process runs one event loop in
a daemon thread and submits the reads to it with a hard timeout, so a hung server can never
block a worker. asyncua does not reconnect a broken Client by itself and reusing one can hang,
so after any failure the Client is thrown away (socket closed) and a fresh one is made on the
next attempt, after an exponential backoff capped low enough to reconnect within seconds of the
server's return.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from asyncua import Client, ua

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0
REQUEST_TIMEOUT = 2.0
MAX_NODES_PER_READ = 1000
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 4.0  # with a 1 s poll, a returning server is reconnected within ~5 s


class _LoopThread:
    """A private event loop in a daemon thread (one per process; recreated after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop.run_forever, name="mes-opcua-loop", daemon=True)
                self._thread.start()
                LINKS.clear()  # Clients belong to the old loop (or the parent process)
            return self._loop

    def run(self, coro, timeout: float):
        future = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise


LOOP = _LoopThread()


def to_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass
class EndpointLink:
    """The connection to one OPC UA server, with its failure count and next allowed attempt."""

    url: str
    client: Client | None = None
    failures: int = 0
    next_attempt: float = 0.0
    last_error: str = ""
    connects: int = 0  # Clients made so far: every one after the first is a reconnect

    def due(self) -> bool:
        return time.monotonic() >= self.next_attempt

    def succeeded(self) -> None:
        self.failures, self.next_attempt, self.last_error = 0, 0.0, ""

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        delay = min(BACKOFF_FIRST * 2 ** (self.failures - 1), BACKOFF_MAX)
        self.next_attempt = time.monotonic() + delay
        self.last_error = f"{error.__class__.__name__}: {error}"[:300]

    async def read(self, nodes: list[ua.NodeId]) -> list[ua.DataValue]:
        """One batched Read per 1000 nodes, asking for both source and server timestamps; connects a
        fresh Client first when there is none."""
        if self.client is None:
            client = Client(self.url, timeout=REQUEST_TIMEOUT)
            try:
                await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT)
            except BaseException:
                _close_socket(client)
                raise
            self.client = client
            self.connects += 1
        values: list[ua.DataValue] = []
        for start in range(0, len(nodes), MAX_NODES_PER_READ):
            params = ua.ReadParameters()
            params.TimestampsToReturn = ua.TimestampsToReturn.Both  # ALCOA: keep the server's time too
            params.NodesToRead = [
                ua.ReadValueId(NodeId=node, AttributeId=ua.AttributeIds.Value)
                for node in nodes[start : start + MAX_NODES_PER_READ]
            ]
            values.extend(await asyncio.wait_for(self.client.uaclient.read(params), REQUEST_TIMEOUT))
        return values

    async def read_bounded(self, nodes: list[ua.NodeId]) -> list[ua.DataValue]:
        """Read within this endpoint's own time limit. A connection that broke since the last poll
        (the server closed it, "client is disconnected") is replaced and the read tried once more
        before the endpoint counts as lost: a healthy server is never reported lost for a stale
        socket. A time-out is not retried (a hanging server must not cost twice)."""
        had_client = self.client is not None
        try:
            return await asyncio.wait_for(self.read(nodes), self.timeout(len(nodes)))
        except (TimeoutError, asyncio.CancelledError):
            raise
        except Exception:
            if not had_client:
                raise
            await self.drop()
            return await asyncio.wait_for(self.read(nodes), self.timeout(len(nodes)))

    @staticmethod
    def timeout(n: int) -> float:
        return CONNECT_TIMEOUT + REQUEST_TIMEOUT * (1 + n // MAX_NODES_PER_READ)

    async def drop(self) -> None:
        """Forget the Client after a failure: try a polite disconnect briefly, then close the socket."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            await asyncio.wait_for(client.disconnect(), 1.0)
        except BaseException:  # noqa: BLE001 - the link is already broken; only cleanup is left
            _close_socket(client)


def _close_socket(client: Client) -> None:
    try:
        client.disconnect_socket()
    except Exception:  # noqa: BLE001
        log.debug("closing a broken OPC UA socket failed", exc_info=True)


LINKS: dict[str, EndpointLink] = {}


def link_for(url: str) -> EndpointLink:
    LOOP.loop()  # make sure links belong to this process
    link = LINKS.get(url)
    if link is None:
        link = LINKS[url] = EndpointLink(url)
    return link


def read_submit(link: EndpointLink, nodes: list[ua.NodeId]) -> Future:
    """Start reading an endpoint on the shared loop; endpoints are read concurrently, each bounded
    by its own time-out, so a hanging server delays nobody else. Finish with `read_finish`."""
    return asyncio.run_coroutine_threadsafe(link.read_bounded(nodes), LOOP.loop())


def read_finish(link: EndpointLink, future: Future) -> list[ua.DataValue]:
    """The values of a submitted read. Raises on any failure, after discarding the Client so the
    next attempt starts clean."""
    try:
        values = future.result(link.timeout(0) * 2 + 1)  # the read bounds itself; this is a safety net
    except BaseException as exc:
        future.cancel()
        try:
            LOOP.run(link.drop(), 2.0)
        except BaseException:  # noqa: BLE001
            link.client = None
        link.failed(exc if str(exc) else TimeoutError("no answer within the endpoint's time-out"))
        raise
    link.succeeded()
    return values


def read_endpoint(link: EndpointLink, nodes: list[ua.NodeId]) -> list[ua.DataValue]:
    """Read one endpoint (blocking the caller at most its own time-out)."""
    return read_finish(link, read_submit(link, nodes))


def reset_links() -> None:
    """Drop every Client (tests, shutdown)."""
    for link in list(LINKS.values()):
        try:
            LOOP.run(link.drop(), 2.0)
        except BaseException:  # noqa: BLE001
            link.client = None
    LINKS.clear()

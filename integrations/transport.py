"""HTTP for the system clients (integrations/<system>/client.py): JSON over httpx, kept-alive.

Only the client modules use this. It knows nothing of the outbox; it reports each response as
delivered, retryable (the receiver is down, slow or overloaded) or refused (the receiver says the
message itself is wrong, so sending it again cannot help).

Every request has explicit connect, write and read time-outs, and the whole exchange a deadline
(`max_exchange_seconds`): httpx's read time-out bounds each read, not the total, so a receiver
that drips its answer a byte at a time is cut off at the deadline. The outbox sizes its lease
from that deadline, so a message is never claimed again while its request may still be in flight.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_noop

from mes.generated import GeneratedText

# Why a delivery failed, stored with the message in English and shown in the reader's language.
NO_COMPLETE_ANSWER = GeneratedText(gettext_noop("no complete answer within %(s)s s"))
CANNOT_CONNECT_IN_TIME = GeneratedText(gettext_noop("cannot connect: no answer within %(s)s s"))
NO_ANSWER = GeneratedText(gettext_noop("no answer within %(s)s s"))
CANNOT_CONNECT = GeneratedText(gettext_noop("cannot connect: %(error)s"))
CONNECTION_LOST = GeneratedText(gettext_noop("connection lost: %(error)s"))
NOT_JSON = GeneratedText(gettext_noop("GET %(path)s answered something that is not JSON"))

# 4xx answers that mean "try again later", not "this message is wrong".
RETRYABLE_4XX = {408, 409, 423, 425, 429}
CONNECT_TIMEOUT_MAX = 5.0
MAX_RESPONSE_BYTES = 1_000_000


class NotConfigured(Exception):
    """The system has no base URL: its messages wait in the outbox until one is configured."""


class DeliveryError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True, timed_out: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.timed_out = timed_out


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


def connect_timeout(timeout: float) -> float:
    return min(CONNECT_TIMEOUT_MAX, timeout)


def max_exchange_seconds(timeout: float) -> float:
    """The longest one request can take: connecting, sending, then answering within `timeout`."""
    return connect_timeout(timeout) + 2 * timeout


class HttpSession:
    """A kept-alive httpx client for one base URL."""

    def __init__(self, base_url: str, *, token: str = "", timeout: float = 10.0):
        if not base_url:
            raise NotConfigured("no base URL")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise NotConfigured(f"unsupported URL scheme {parts.scheme!r}")
        self.timeout = float(timeout)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=connect_timeout(self.timeout)),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment must not sit between the MES and the ERP
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, *, body=None, headers: dict | None = None, params=None) -> Response:
        content = json.dumps(body, cls=DjangoJSONEncoder).encode() if body is not None else None
        all_headers = {**({"Content-Type": "application/json"} if content is not None else {}), **(headers or {})}
        # A read after this moment may still take `timeout`: the exchange ends by max_exchange_seconds.
        deadline = time.monotonic() + connect_timeout(self.timeout) + self.timeout
        try:
            with self._client.stream(method, path, content=content, headers=all_headers, params=params) as raw:
                chunks, size = [], 0
                for chunk in raw.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if time.monotonic() > deadline:
                        raise DeliveryError(NO_COMPLETE_ANSWER(s=f"{self.timeout:g}"), timed_out=True)
                    if size > MAX_RESPONSE_BYTES:
                        break  # only the start of an oversized answer is kept (for the error text)
                return Response(raw.status_code, b"".join(chunks))
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise DeliveryError(CANNOT_CONNECT_IN_TIME(s=f"{connect_timeout(self.timeout):g}")) from exc
            raise DeliveryError(NO_ANSWER(s=f"{self.timeout:g}"), timed_out=True) from exc
        except httpx.ConnectError as exc:
            raise DeliveryError(CANNOT_CONNECT(error=exc)) from exc
        except httpx.HTTPError as exc:
            # The connection broke after the request went out: the receiver may have it (retry = same key).
            raise DeliveryError(CONNECTION_LOST(error=exc.__class__.__name__)) from exc

    def post_message(self, path: str, payload, *, idempotency_key: str, kind: str) -> Response:
        """POST one message; raise DeliveryError unless the receiver accepted it (2xx)."""
        response = self.request(
            "POST", path, body=payload, headers={"Idempotency-Key": idempotency_key, "X-MES-Message-Kind": kind}
        )
        if 200 <= response.status < 300:
            return response
        retryable = response.status >= 500 or response.status in RETRYABLE_4XX
        text = response.body[:300].decode("utf-8", "replace")
        raise DeliveryError(f"HTTP {response.status}: {text}", status=response.status, retryable=retryable)

    def get_json(self, path: str, params: dict | None = None):
        response = self.request("GET", path, params=params)
        if response.status != 200:
            raise DeliveryError(f"HTTP {response.status} on GET {path}", status=response.status)
        try:
            return response.json()
        except ValueError as exc:
            raise DeliveryError(NOT_JSON(path=path)) from exc


def system_timeout(system: str) -> float:
    return float((settings.MES_INTEGRATIONS.get(system) or {}).get("timeout", 10.0))


def system_session(system: str) -> HttpSession:
    """A session to a configured system, from settings.MES_INTEGRATIONS (environment)."""
    conf = settings.MES_INTEGRATIONS.get(system) or {}
    return HttpSession(conf.get("base_url", ""), token=conf.get("token", ""), timeout=conf.get("timeout", 10.0))


def deliver_message(session: HttpSession, path: str, message) -> Response:
    """POST an outbox message in the common envelope; the Idempotency-Key is its message id."""
    envelope = {
        "message_id": str(message.message_id),
        "kind": message.kind,
        "event_key": message.key,
        "occurred_at": message.created_at.isoformat(),
        "data": message.payload,
    }
    return session.post_message(path, envelope, idempotency_key=str(message.message_id), kind=message.kind)

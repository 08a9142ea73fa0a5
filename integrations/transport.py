"""HTTP for the system clients (integrations/<system>/client.py): JSON over one kept-alive connection.

Only the client modules use this. It knows nothing of the outbox; it reports each response as
delivered, retryable (the receiver is down, slow or overloaded) or refused (the receiver says the
message itself is wrong, so sending it again cannot help).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

# 4xx answers that mean "try again later", not "this message is wrong".
RETRYABLE_4XX = {408, 409, 423, 425, 429}


class NotConfigured(Exception):
    """The system has no base URL: its messages wait in the outbox until one is configured."""


class DeliveryError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


class HttpSession:
    """A kept-alive connection to one base URL (reconnects once if the peer closed it)."""

    def __init__(self, base_url: str, *, token: str = "", timeout: float = 10.0):
        if not base_url:
            raise NotConfigured("no base URL")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise NotConfigured(f"unsupported URL scheme {parts.scheme!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, *, body=None, headers: dict | None = None, params=None) -> Response:
        url = self.prefix + path + (f"?{urlencode(params)}" if params else "")
        data = json.dumps(body, cls=DjangoJSONEncoder).encode() if body is not None else None
        all_headers = {"Accept": "application/json", "Content-Type": "application/json", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, url, body=data, headers=all_headers)
                raw = conn.getresponse()
                payload = raw.read()
                if raw.getheader("Connection", "").lower() == "close":
                    self.close()
                return Response(raw.status, payload)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the peer closed: reconnect once before calling it a failure.
                self.close()
                if attempt == 2:
                    raise DeliveryError(f"connection lost: {exc.__class__.__name__}") from exc
            except TimeoutError as exc:
                self.close()
                raise DeliveryError(f"no answer within {self.timeout:g} s") from exc
            except OSError as exc:
                self.close()
                raise DeliveryError(f"cannot connect: {exc}") from exc
        raise DeliveryError("unreachable")  # pragma: no cover

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
        return response.json()


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

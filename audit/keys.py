"""The audit key ring: secrets that key the hash chain and sign its checkpoints, kept outside the database.

Someone holding the application's database credentials (or a database superuser) can insert rows and
recompute plain SHA-256 hashes, but cannot compute an HMAC without the key, so a forged or rebuilt
event fails verification. Each event and checkpoint records the id of the key that keyed it; rotation
adds a key and makes it current, and the old keys stay in the ring to verify what they keyed.

Where the ring comes from, in order: MES_AUDIT_KEYS ("id:hex,id:hex", the first current; for secret
stores that inject environment variables), else the file MES_AUDIT_KEY_FILE. In development a file
with a new key is created on first use; with MES_REQUIRE_AUDIT_KEY=1 (production) a missing ring is an
error instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32


@dataclass(frozen=True)
class KeyRing:
    """Key id -> key bytes, and the id new events and checkpoints are keyed with."""

    current: str
    keys: dict[str, bytes]

    def key(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def sign(self, data: bytes, key_id: str | None = None) -> str:
        """HMAC-SHA-256 of `data` with the named (default: current) key, as hex."""
        return hmac.digest(self.keys[key_id or self.current], data, "sha256").hex()


def _parse_env(raw: str) -> KeyRing:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in raw.split(","):
        key_id, _, hex_key = item.strip().partition(":")
        try:
            keys[key_id] = bytes.fromhex(hex_key)
        except ValueError as exc:
            raise ImproperlyConfigured(f"MES_AUDIT_KEYS: key {key_id!r} is not hexadecimal.") from exc
        order.append(key_id)
    if not order or not all(order) or any(len(k) < 16 for k in keys.values()):
        raise ImproperlyConfigured("MES_AUDIT_KEYS must be 'id:hex,...' with keys of at least 16 bytes.")
    return KeyRing(current=order[0], keys=keys)


def _read_file(path: Path) -> KeyRing:
    data = json.loads(path.read_text(encoding="utf-8"))
    keys = {key_id: bytes.fromhex(hex_key) for key_id, hex_key in data["keys"].items()}
    if data["current"] not in keys:
        raise ImproperlyConfigured(f"{path}: the current key {data['current']!r} is not in the ring.")
    return KeyRing(current=data["current"], keys=keys)


def _write_file(path: Path, ring: KeyRing) -> None:
    """Write the ring readable by its owner only (a new file, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    payload = {"current": ring.current, "keys": {k: v.hex() for k, v in ring.keys.items()}}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def new_key_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("k%Y%m%d%H%M%S") + secrets.token_hex(2)


@functools.cache
def _ring_for(raw_env: str, path: str, required: bool) -> KeyRing:
    if raw_env:
        return _parse_env(raw_env)
    file = Path(path)
    if file.exists():
        return _read_file(file)
    if required:
        raise ImproperlyConfigured(
            f"The audit key ring is missing: set MES_AUDIT_KEYS or create {file} (manage.py audit_key create)."
        )
    ring = KeyRing(current=new_key_id(), keys={})
    ring.keys[ring.current] = secrets.token_bytes(KEY_BYTES)
    _write_file(file, ring)
    return ring


def key_ring() -> KeyRing:
    """The configured key ring (read once per process and configuration)."""
    return _ring_for(settings.MES_AUDIT_KEYS, str(settings.MES_AUDIT_KEY_FILE), settings.MES_REQUIRE_AUDIT_KEY)


def key_ring_rotate() -> KeyRing:
    """Add a new key to the file ring and make it current; the old keys stay to verify what they keyed."""
    if settings.MES_AUDIT_KEYS:
        raise ImproperlyConfigured("The key ring comes from MES_AUDIT_KEYS: rotate it in the secret store.")
    ring = key_ring()
    rotated = KeyRing(current=new_key_id(), keys=dict(ring.keys))
    rotated.keys[rotated.current] = secrets.token_bytes(KEY_BYTES)
    _write_file(Path(settings.MES_AUDIT_KEY_FILE), rotated)
    _ring_for.cache_clear()
    return rotated


def key_ring_forget() -> None:
    """Forget the ring read by this process (after a rotation elsewhere, and in tests)."""
    _ring_for.cache_clear()

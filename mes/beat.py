"""A Celery beat scheduler that refuses to run twice: exactly one beat may schedule periodic work.

With Redis, the lock is a key with a time-to-live that the running beat keeps refreshing (so a
crashed beat's lock expires); with the embedded filesystem broker it is an exclusive file lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger("mes.beat")
LOCK_TTL = 60


class BeatAlreadyRunning(SystemExit):
    pass


class SingleBeatScheduler(PersistentScheduler):
    def setup_schedule(self):
        self._lock = _acquire()
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        self._lock.refresh()
        return min(super().tick(*args, **kwargs), LOCK_TTL / 3)


class _RedisLock:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.key = settings.CELERY_BEAT_LOCK_KEY
        self.token = f"{socket.gethostname()}:{os.getpid()}"
        if not self.client.set(self.key, self.token, nx=True, ex=LOCK_TTL):
            holder = self.client.get(self.key)
            raise BeatAlreadyRunning(
                f"another celery beat holds {self.key} ({holder!r}); refusing to start a second one"
            )

    def refresh(self) -> None:
        if self.client.get(self.key) not in (self.token.encode(), None):
            raise BeatAlreadyRunning("the beat lock was taken over by another beat; stopping")
        self.client.set(self.key, self.token, ex=LOCK_TTL)


class _FileLock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BeatAlreadyRunning(f"another celery beat holds {path}; refusing to start a second one") from None

    def refresh(self) -> None:
        pass


def _acquire():
    url = settings.CELERY_BROKER_URL
    lock = _RedisLock(url) if url.startswith("redis") else _FileLock(settings.VAR_DIR / "beat.lock")
    logger.info("beat lock acquired")
    return lock

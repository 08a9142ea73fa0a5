"""Test settings: the project's settings plus a small sample app for the workflow tests."""

import os

from mes.settings import *  # noqa: F403
from mes.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sample"]
# Fast hashing in tests: passwords are still checked, just not with a slow key-derivation.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not shared-cache memory: concurrent connections then wait on SQLite's lock as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
# 21 CFR 11.200(a) user-ID-on-first-signing is on in production (MES_SIGNATURE_FULL_FIRST defaults to
# True); tests of other areas post signature forms with the password only, so it is off here and the
# administration tests switch it on where they test it.
MES_SIGNATURE_FULL_FIRST = False

# Parallel runs (pytest -n, pytest-xdist): each worker has its own test database (pytest-django adds the
# worker's suffix) and its own Redis database, inherited by the servers and workers a test starts, so
# one worker's queues, locks and cached state never reach another's.
# Only the worker's own URL is moved: a server or worker a test starts inherits the moved URL, or is given
# a private Redis of its own (tests/faults), and keeps it.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_SHARED_REDIS = os.environ.setdefault("MES_TEST_SHARED_REDIS_URL", REDIS_URL)  # noqa: F405
if REDIS_URL and REDIS_URL == _SHARED_REDIS and _XDIST_WORKER.startswith("gw"):  # noqa: F405
    _base, _, _db = REDIS_URL.rpartition("/")  # noqa: F405
    REDIS_URL = f"{_base}/{(int(_db or 0) + 1 + int(_XDIST_WORKER[2:])) % 64}"
    os.environ["REDIS_URL"] = CELERY_BROKER_URL = REDIS_URL

# Each test's database is rolled back or flushed; a cache shared through Redis would outlive it.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# One audit key ring for the test process and every server or worker it starts (they inherit the
# environment): events keyed by one process must verify in another.
os.environ.setdefault("MES_AUDIT_KEYS", "test-k1:" + "5a" * 32)
MES_AUDIT_KEYS = os.environ["MES_AUDIT_KEYS"]

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

# Each test's database is rolled back or flushed; a cache shared through Redis would outlive it.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# One audit key ring for the test process and every server or worker it starts (they inherit the
# environment): events keyed by one process must verify in another.
os.environ.setdefault("MES_AUDIT_KEYS", "test-k1:" + "5a" * 32)
MES_AUDIT_KEYS = os.environ["MES_AUDIT_KEYS"]

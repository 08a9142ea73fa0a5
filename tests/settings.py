"""Test settings: the project's settings plus a small sample app for the workflow tests."""

from mes.settings import *  # noqa: F403
from mes.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sample"]
# Fast hashing in tests: passwords are still checked, just not with a slow key-derivation.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

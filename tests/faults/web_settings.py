"""Settings of the web and worker processes a fault scenario starts: the product's own settings
(Redis cache and broker when REDIS_URL is set, no eager tasks), plus the tests-only sample app and
the fast password hasher the test users are created with."""

from mes.settings import *  # noqa: F403
from mes.settings import INSTALLED_APPS, PASSWORD_HASHERS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sample"]
PASSWORD_HASHERS = [*PASSWORD_HASHERS, "django.contrib.auth.hashers.MD5PasswordHasher"]
MES_SIGNATURE_FULL_FIRST = False  # the scenario signs with the password only, as the other tests do

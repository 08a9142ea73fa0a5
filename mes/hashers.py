"""The password hasher: Argon2id in one of OWASP's memory-hard configurations.

Every electronic signature and second-person verification checks a password (21 CFR 11.200), so
on the shop floor the hash is paid many times an hour per operator, inside the request the operator
waits for. Django's default PBKDF2 (1,000,000 SHA-256 iterations) costs about 0.24 s of CPU per
check on the reference machine.

The OWASP Password Storage Cheat Sheet lists five Argon2id configurations as its minimum and says
they give an equal level of defence, trading memory against passes: m=46 MiB t=1, m=19 MiB t=2,
m=12 MiB t=3, m=9 MiB t=4 and m=7 MiB t=5 (each with p=1), all equivalent to PBKDF2-SHA256 at
600,000 iterations. The plant uses the last one. Measured on the 2-core machines these sessions run
on, a check costs 14.2 ms of CPU with 7 MiB and 5 passes against 18.3 ms with 19 MiB and 2 passes
(the installations before 2026-12-06), and two checks at once 14.6-14.9 ms against 17.8-18.9 ms:
7 MiB stays in a core's caches far more than 19 MiB does, and a web server with many workers on
few cores runs other requests beside every check, whose caches a smaller block disturbs less.

Existing hashes stay valid: PBKDF2 hashes and Argon2id hashes with the earlier parameters are
re-hashed to these at the user's next successful log-in (Django's hasher upgrade, which compares
the parameters stored in each hash with the hasher's).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class PlantArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 7 MiB of memory, 5 passes, 1 lane (the parameters are stored in each hash)."""

    time_cost = 5
    memory_cost = 7 * 1024  # KiB
    parallelism = 1

"""The password hasher: Argon2id in OWASP's memory-hard configuration.

Every electronic signature and second-person verification checks a password (21 CFR 11.200), so
on the shop floor the hash is paid many times an hour per operator, inside the request the operator
waits for. Django's default PBKDF2 (1,000,000 SHA-256 iterations) costs about 0.24 s of CPU per
check on the reference machine; Argon2id with m=19 MiB, t=2, p=1 is the configuration the OWASP
Password Storage Cheat Sheet lists first as its minimum, equivalent in the protection it gives to
PBKDF2-SHA256 at 600,000 iterations, and costs about 25 ms. Existing PBKDF2 hashes stay valid and
are re-hashed to this one at the user's next successful log-in (Django's hasher upgrade).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class PlantArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 19 MiB of memory, 2 passes, 1 lane (the parameters are stored in each hash)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

"""One Celery-like poller worker for bench_capture: `opcua_poll()` once a second for N seconds.

Run as its own process (two of them at once), exactly what the beat task does in each worker."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")


def main(seconds: float) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)
    logging.getLogger("equipment").setLevel(logging.ERROR)
    from equipment.services import opcua_poll

    next_tick = time.monotonic()
    end = next_tick + seconds
    while time.monotonic() < end:
        time.sleep(max(0.0, next_tick - time.monotonic()))
        opcua_poll()
        # a tick missed while this poll ran is skipped, as beat's expiring tasks are (expires=5)
        next_tick = max(next_tick + 1.0, float(int(time.monotonic() - next_tick)) + next_tick)


if __name__ == "__main__":
    main(float(sys.argv[1]))

"""Figures of a fault scenario: printed, and appended as one JSON line to $MES_FAULTS_REPORT when set
(scripts/faults.py reads it to print PASS/FAIL with the numbers)."""

from __future__ import annotations

import json
import os


def record(scenario: str, **figures) -> None:
    line = json.dumps({"scenario": scenario, **figures}, default=str)
    print(f"\nFAULT {line}")
    path = os.environ.get("MES_FAULTS_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")

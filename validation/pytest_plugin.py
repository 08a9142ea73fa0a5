"""pytest plugin of `qualify oq` / `qualify pq`: every test's requirement IDs, outcome and duration as JSON.

Loaded with `-p validation.pytest_plugin --qualify-json=PATH` by the qualification runner only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_tests: dict[str, dict] = {}


def pytest_addoption(parser):
    parser.addoption("--qualify-json", default=None, help="write each test's requirement IDs, outcome, time here")


def pytest_collection_modifyitems(config, items):
    for item in items:
        reqs = sorted({req for mark in item.iter_markers(name="req") for req in mark.args})
        _tests[item.nodeid] = {"reqs": reqs, "outcome": "not run", "seconds": 0.0}
        # Carried on every report of the test: with pytest -n the workers collect, the controller writes.
        item.user_properties.append(("qualify_reqs", reqs))


def pytest_runtest_logreport(report):
    entry = _tests.setdefault(report.nodeid, {"reqs": [], "outcome": "not run", "seconds": 0.0})
    for name, value in getattr(report, "user_properties", ()):
        if name == "qualify_reqs":
            entry["reqs"] = list(value)
    entry["seconds"] = round(entry["seconds"] + report.duration, 3)
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        entry["outcome"] = report.outcome
    elif report.when == "teardown" and report.outcome == "failed":
        entry["outcome"] = "failed"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    target = session.config.getoption("--qualify-json")
    if target and not hasattr(session.config, "workerinput"):
        data = {"exitstatus": int(exitstatus), "tests": _tests}
        Path(target).write_text(json.dumps(data, indent=1), encoding="utf-8")

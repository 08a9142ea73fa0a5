"""Fault: PostgreSQL restarts while users post GMP records through gunicorn.

The users whose request failed get the product's 503 page in their language (no stack trace, no
bare "Internal Server Error"); once the database is back every request succeeds again without
restarting the web server; each fault report exists together with its audit event and logbook
entry, or not at all; the audit chain verifies."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest
from django.db import connection

from tests.equipment.conftest import equipment, make_equipment, plant  # noqa: F401 - fixtures
from tests.faults.report import record
from tests.faults.servers import ROOT, PrivatePostgres, django_env, gunicorn
from tests.faults.web import WebUser, copy_database

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.req("SEC-4", "AUD-2")]
CLIENTS = [("operator", "en"), ("operator2", "zh-hans"), ("supervisor", "en"), ("maintenance", "zh-hans")]
FRIENDLY = {"en": "The system is briefly unavailable", "zh-hans": "系统暂时不可用"}


@dataclass
class Outcome:
    description: str
    started: float
    status: int
    body: str
    language: str


def _post_faults(user: WebUser, name: str, language: str, eq_pk: int, stop: threading.Event, out: list) -> None:
    i = 0
    while not stop.is_set():
        description = f"{name}-{i}"
        started = time.monotonic()
        try:
            response = user.post_form(f"/equipment/{eq_pk}/fault/", {"description": description})
            out.append(Outcome(description, started, response.status_code, response.text, language))
        except Exception as exc:  # noqa: BLE001 - a refused connection to gunicorn would be a failure too
            out.append(Outcome(description, started, 0, repr(exc), language))
        i += 1
        time.sleep(0.05)


def _consistency(url: str) -> dict:
    """Fault reports, their audit events and logbook entries, counted in the private database."""
    with psycopg.connect(url) as db:
        faults = dict(db.execute("SELECT id::text, description FROM equipment_faultreport").fetchall())
        audited = {
            r[0]
            for r in db.execute(
                "SELECT object_id FROM audit_auditevent WHERE action = 'equipment.fault.report' "
                "AND object_type LIKE '%%faultreport'"
            )
        }
        logged = {r[0] for r in db.execute("SELECT text FROM equipment_logbookentry WHERE kind = 'fault'")}
    return {"faults": faults, "audited": audited, "logged": logged}


@pytest.mark.django_db(transaction=True)
def test_postgres_restart_mid_load_fails_cleanly_and_recovers(users, password, equipment):  # noqa: F811
    pg = PrivatePostgres().init()
    pg.start()
    web = None
    try:
        pg.create_database("mes")
        copy_database(connection.settings_dict, port=pg.port, name="mes")
        env = django_env(database_url=pg.url("mes"), redis_url="", settings="tests.settings")
        web, base = gunicorn(env, workers=2, threads=4)
        clients = [(WebUser(base, name, password, lang), name, lang) for name, lang in CLIENTS]
        stop, outcomes = threading.Event(), []
        threads = [
            threading.Thread(target=_post_faults, args=(u, n, lang, equipment.pk, stop, outcomes))
            for u, n, lang in clients
        ]
        for t in threads:
            t.start()
        time.sleep(3)
        down_at = time.monotonic()
        pg.stop()  # fast shutdown: in-flight transactions are rolled back, connections cut
        time.sleep(2)
        pg.start()
        up_at = time.monotonic()
        time.sleep(8)
        stop.set()
        for t in threads:
            t.join(30)
        after_restart = clients[0][0].get(f"/equipment/{equipment.pk}/")
    finally:
        if web is not None:
            web.stop()
    try:
        data = _consistency(pg.url("mes"))
        witnessed = {**env, "MES_AUDIT_CHECKPOINT_FILE": str(pg.root / "checkpoints.jsonl")}
        for command in ("audit_checkpoint", "verify_audit_trail"):  # the beat's checkpoint, then the auditor's check
            verify = subprocess.run(
                [sys.executable, "manage.py", command], cwd=ROOT, env=witnessed, capture_output=True, text=True
            )
    finally:
        pg.destroy()

    failed = [o for o in outcomes if o.status != 302]
    ok_after = [o for o in outcomes if o.status == 302 and o.started >= up_at]
    first_ok = min((o.started for o in ok_after), default=None)
    late_failures = [o for o in failed if o.started > up_at + 1.0]
    record(
        "PostgreSQL restart",
        requests=len(outcomes),
        failed=len(failed),
        failed_statuses=sorted({o.status for o in failed}),
        outage_s=round(up_at - down_at, 1),
        first_success_after_restart_s=round(first_ok - up_at, 2) if first_ok else None,
        failures_later_than_1s_after_restart=len(late_failures),
        fault_reports=len(data["faults"]),
        audit_chain=verify.stdout.strip() or verify.stderr.strip(),
    )
    assert failed, "no request met the outage: the fault was not exercised"
    for o in failed:
        assert o.status == 503 and FRIENDLY[o.language] in o.body, (o.status, o.body[:300])
        assert "Traceback" not in o.body
    assert ok_after and not late_failures, [(o.status, o.body[:200]) for o in late_failures[:3]]
    assert after_restart.status_code == 200
    # no half-written record: each report has its audit event and logbook entry, and vice versa
    assert set(data["faults"]) == data["audited"]
    assert len(data["logged"]) == len(data["faults"])
    saved = {o.description for o in outcomes if o.status == 302}
    assert saved <= set(data["faults"].values())  # every confirmed report is there
    assert verify.returncode == 0, verify.stderr

"""`qualify iq` inspects the installation and fails when it is wrong: a guard trigger dropped, the
runtime role a superuser, a dependency at another version than requirements.txt pins."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from validation.iq import _role_lines, database_lines, software_lines

pytestmark = [pytest.mark.postgres]


def _by_check(lines):
    return {(entry.check % entry.params if entry.params else entry.check): entry for entry in lines}


@pytest.mark.django_db
def test_database_checks_pass_on_a_correct_installation():
    lines = database_lines()
    assert lines and all(entry.ok for entry in lines), [e for e in lines if not e.ok]
    checks = _by_check(lines)
    assert checks["Append-only trigger on audit_signature"].found == "audit_signature_append_only"
    assert checks["Audited-write trigger on GMP table batches_batch"].status == "pass"
    assert checks["No DELETE on GMP tables"].found == "none"
    assert checks["All migrations applied"].ok


@pytest.mark.django_db(transaction=True)
def test_iq_fails_when_a_guard_trigger_is_dropped(owner_connection, tmp_path):
    from audit.db import install_append_only, remove_append_only

    with owner_connection():
        remove_append_only(connection, ["audit_signature"])
    try:
        with pytest.raises(SystemExit) as exit_:
            call_command("qualify", "iq", "--evidence", str(tmp_path))
        assert exit_.value.code == 1
        evidence = json.loads((tmp_path / "iq.json").read_text())
        line = next(e for e in evidence["lines"] if e["params"].get("table") == "audit_signature")
        assert (line["status"], line["found"]) == ("fail", "missing or disabled")
        assert not evidence["passed"]
        assert any("audit_signature" in d for d in evidence["deviations"])
    finally:
        with owner_connection():
            install_append_only(connection, ["audit_signature"])
    assert all(entry.ok for entry in database_lines())


@pytest.mark.django_db(transaction=True)
def test_iq_fails_when_the_runtime_role_is_a_superuser():
    """A scratch role made superuser stands in for the runtime role (the shared mes_app is left alone)."""
    role = f"mes_q_super_{secrets.token_hex(3)}"
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
    subprocess.run([*psql, f"CREATE ROLE {role} LOGIN SUPERUSER"], check=True)
    saved = connection.settings_dict["USER"]
    try:
        connection.close()
        connection.settings_dict["USER"] = role
        with connection.cursor() as cursor:
            checks = _by_check(_role_lines(cursor))
    finally:
        connection.close()
        connection.settings_dict["USER"] = saved
        subprocess.run([*psql, f"DROP ROLE IF EXISTS {role}"], check=True)
    line = checks[f"Runtime role {role} is not a superuser"]
    assert (line.status, line.found) == ("fail", "yes")
    with connection.cursor() as cursor:  # and the real runtime role passes
        assert all(entry.ok for entry in _role_lines(cursor))


def test_software_versions_are_read_from_the_installed_distributions(tmp_path):
    pins = tmp_path / "requirements.txt"
    pins.write_text("# pinned\nDjango==0.0.1\nredis==99.0 ; python_version >= '3'\nno-such-package-q==1.0\n")
    checks = _by_check(software_lines(pins))
    import django

    assert checks["Package Django"].found == django.get_version()
    assert checks["Package Django"].status == "fail"
    assert checks["Package redis"].status == "fail"
    assert checks["Package no-such-package-q"].found == "—"
    real = _by_check(software_lines())
    assert real["Package Django"].ok and real["Package weasyprint"].ok

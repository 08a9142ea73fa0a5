"""What `make run` prints: the URL, who to log in as (with the role's name), where tokens and e-mails
go, and nothing secret (no API token, no e-mail content)."""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"mes_[A-Za-z0-9_-]{20,}")


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "scripts" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_banner_names_roles_and_shows_nothing_secret():
    lines = _run_all().banner_lines()
    text = "\n".join(lines)
    planner = next(line for line in lines if line.strip().startswith("planner"))
    assert "Planner" in planner and "Fang Wang" in planner and planner.split()[:2] != ["planner", "planner"]
    assert any("qc" in line.split()[:1] and "QC inspector / reviewer" in line for line in lines)
    assert not TOKEN.search(text) and "@" not in text
    assert "integration_account rotate" in text and "var/mail" in text and "http://" in text


@pytest.mark.django_db
def test_demo_seed_prints_no_api_token(monkeypatch):
    from integrations import seed as integration_seed
    from integrations.models import IntegrationAccount

    # Only the accounts and what is printed: the message log's demo data needs the whole plant.
    for name in ("_seed_outbox", "_seed_inbox", "seed_quality_links"):
        monkeypatch.setattr(integration_seed, name, lambda: None)
    out = io.StringIO()
    integration_seed.seed(out)
    assert IntegrationAccount.objects.count() == 4
    printed = out.getvalue()
    assert not TOKEN.search(printed) and "token" in printed and "erp-link" in printed


def test_e_mails_are_never_printed_to_the_console_by_default():
    import mes.settings as defaults

    assert "console" not in defaults.EMAIL_BACKEND
    assert str(defaults.EMAIL_FILE_PATH).endswith("mail")

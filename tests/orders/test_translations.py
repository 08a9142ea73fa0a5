"""Every message of the orders pages (and the material master and batch fields they add) is in Chinese."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("app", ["orders", "materials", "batches"])
def test_catalogue_is_complete(app):
    po = polib.pofile(str(ROOT / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    assert not missing, missing
    assert (ROOT / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo").exists()

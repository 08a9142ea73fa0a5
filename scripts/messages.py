"""Refresh and compile the translation catalogues (`make messages`).

Runs makemessages once from the project root: each app that has a `locale/` folder gets its own
catalogue; everything else (templates/, mes/) goes to the top-level `locale/`. Compiles with polib
so a machine without gettext's msgfmt can still build the .mo files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
APPS = ["mes", "audit", "orders", "batches", "equipment", "materials", "quality", "integrations"]
IGNORE = [".venv", "tests", "bench", "staticfiles", "var", "node_modules", "test-artifacts"]


def main() -> int:
    for app in APPS:
        if app != "mes":
            (ROOT / app / "locale").mkdir(exist_ok=True)
    (ROOT / "locale").mkdir(exist_ok=True)
    args = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location"]
    for pattern in IGNORE:
        args += ["--ignore", pattern]
    subprocess.run(args, cwd=ROOT, check=True)
    return compile_all()


def compile_all() -> int:
    missing = 0
    for po_path in sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")):
        if ".venv" in po_path.parts:
            continue
        po = polib.pofile(str(po_path))
        untranslated = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
        missing += len(untranslated)
        for msgid in untranslated[:10]:
            print(f"untranslated in {po_path.relative_to(ROOT)}: {msgid!r}")
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
    print("catalogues compiled" + (f"; {missing} entries still need a translation" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(compile_all() if "--compile" in sys.argv else main())

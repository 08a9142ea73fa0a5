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
    print(f"{reuse_translations()} entries filled from other catalogues")
    return compile_all()


def catalogue_paths() -> list[Path]:
    return sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def reuse_translations(extra: list[Path] = ()) -> int:
    """Fill untranslated entries with the translation the same text already has in another catalogue
    (strings move between catalogues when code moves between apps). Returns how many were filled."""
    known: dict[tuple, object] = {}
    for path in [*extra, *catalogue_paths()]:
        for e in polib.pofile(str(path)).translated_entries():  # fuzzy entries are not translated_entries
            known[(e.msgctxt, e.msgid, e.msgid_plural)] = e.msgstr_plural if e.msgid_plural else e.msgstr
    filled = 0
    for path in catalogue_paths():
        po = polib.pofile(str(path))
        changed = False
        for e in [*po.untranslated_entries(), *po.fuzzy_entries()]:
            found = known.get((e.msgctxt, e.msgid, e.msgid_plural))
            if found:
                if "fuzzy" in e.flags:
                    e.flags.remove("fuzzy")
                e.previous_msgid = e.previous_msgid_plural = e.previous_msgctxt = None
                if e.msgid_plural:
                    e.msgstr_plural = dict(found)
                else:
                    e.msgstr = found
                filled, changed = filled + 1, True
        if changed:
            po.save(str(path))
    return filled


def compile_all() -> int:
    missing = 0
    for po_path in catalogue_paths():
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

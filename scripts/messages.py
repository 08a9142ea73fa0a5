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
    before = known_translations(catalogue_paths())  # read before makemessages drops moved strings
    args = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location"]
    for pattern in IGNORE:
        args += ["--ignore", pattern]
    subprocess.run(args, cwd=ROOT, check=True)
    print(f"{reuse_translations(before)} entries filled from the translations known before the run")
    report_losses(before)
    return compile_all()


def catalogue_paths() -> list[Path]:
    return sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts)


Key = tuple[str | None, str, str]


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def known_translations(paths: list[Path]) -> dict[Key, object]:
    """Every confirmed translation in these catalogues (fuzzy ones are only suggestions)."""
    known: dict[Key, object] = {}
    for path in paths:
        for e in polib.pofile(str(path)).translated_entries():
            known[_key(e)] = dict(e.msgstr_plural) if e.msgid_plural else e.msgstr
    return known


def reuse_translations(known: dict[Key, object], paths: list[Path] | None = None) -> int:
    """Fill untranslated and fuzzy entries with the translation the same text had before the run, in any
    catalogue: makemessages drops a string from the catalogue of the app it left (--no-obsolete) and adds
    it untranslated to the one it moved to, and msgmerge may mark an unchanged msgid fuzzy or blank it.
    Returns how many entries were filled."""
    filled = 0
    for path in catalogue_paths() if paths is None else paths:
        po = polib.pofile(str(path))
        changed = False
        for e in [*po.untranslated_entries(), *po.fuzzy_entries()]:
            found = known.get(_key(e))
            if not found:
                continue
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


def report_losses(before: dict[Key, object], paths: list[Path] | None = None) -> list[str]:
    """Say which translations are no longer in any catalogue: the source no longer has that text (or a
    msgid changed; msgmerge then keeps the old translation as a fuzzy suggestion to confirm)."""
    now = known_translations(catalogue_paths() if paths is None else paths)
    gone = [msgid for (_, msgid, _) in before.keys() - now.keys()]
    for msgid in sorted(gone)[:20]:
        print(f"translation dropped (text no longer in the source or changed): {msgid!r}")
    return gone


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

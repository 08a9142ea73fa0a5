"""Fill zh-hans translations from a JSON dict {msgid: msgstr} for entries still untranslated or fuzzy.
Usage: python scripts/zh_fill.py translations.json  (then scripts/messages.py --compile)."""

import json
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from messages import catalogue_paths  # noqa: E402


def main(path: str) -> None:
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    for po_path in catalogue_paths():
        po = polib.pofile(str(po_path))
        changed = False
        for e in [*po.untranslated_entries(), *po.fuzzy_entries()]:
            if e.msgid in table:
                value = table[e.msgid]
                if e.msgid_plural:
                    e.msgstr_plural = {0: value}
                else:
                    e.msgstr = value
                if "fuzzy" in e.flags:
                    e.flags.remove("fuzzy")
                e.previous_msgid = None
                changed = True
        if changed:  # polib wraps lines unlike msgmerge: an untouched catalogue is not rewritten
            po.save(str(po_path))


if __name__ == "__main__":
    main(sys.argv[1])

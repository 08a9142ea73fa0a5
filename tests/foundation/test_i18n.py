"""Every catalogue is complete (zh-hans and English) and its compiled .mo matches the .po."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The project's own catalogues: not a virtualenv's, nor the copies under var/ (make bench extracts a baseline
# checkout there to measure against, with that commit's catalogues).
CATALOGUES = sorted(
    p
    for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po")
    if not {".venv", "var"} & set(p.relative_to(ROOT).parts)
)


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 2


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    for entry in po.translated_entries():
        assert (entry.msgctxt, entry.msgid) in compiled, f".mo is stale, run `make messages`: {entry.msgid!r}"


def _catalogue(path, entries):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for entry in entries:
        po.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path


def test_refreshing_catalogues_keeps_a_translation_whose_string_moved_or_was_blanked(tmp_path):
    """scripts/messages.py: makemessages drops a moved string from its old app's catalogue before the
    new one gets it, and msgmerge may blank or fuzzy-mark a msgid; translations are read before the run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts" / "messages.py")
    messages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(messages)
    equipment = _catalogue(tmp_path / "equipment.po", [polib.POEntry(msgid="Enter the time.", msgstr="请输入工时。")])
    batches = _catalogue(
        tmp_path / "batches.po",
        [
            polib.POEntry(msgid="Step", msgstr="步骤"),
            polib.POEntry(msgid="%d step", msgid_plural="%d steps", msgstr_plural={0: "%d 个步骤"}),
        ],
    )
    before = messages.known_translations([equipment, batches])
    # What makemessages leaves behind: the string moved from equipment to batches, one entry blanked, one fuzzy.
    _catalogue(equipment, [])
    fuzzy_plural = polib.POEntry(msgid="%d step", msgid_plural="%d steps", msgstr_plural={0: "%d 个"}, flags=["fuzzy"])
    _catalogue(batches, [polib.POEntry(msgid="Enter the time."), polib.POEntry(msgid="Step"), fuzzy_plural])
    assert messages.reuse_translations(before, [equipment, batches]) == 3
    after = {e.msgid: e for e in polib.pofile(str(batches))}
    assert after["Enter the time."].msgstr == "请输入工时。" and after["Step"].msgstr == "步骤"
    assert after["%d step"].msgstr_plural == {0: "%d 个步骤"} and not after["%d step"].fuzzy
    assert messages.report_losses(before, [equipment, batches]) == []

"""A translation in an app's catalogue is the one the screen shows.

Django merges every catalogue into one table per language: LOCALE_PATHS first, then the apps in
INSTALLED_APPS order (django.contrib.admin and the other libraries before ours). A msgid without
context therefore has ONE Chinese text in the whole process, whichever catalogue wins: "Filter" showed
Django admin's 过滤器 (a filter device) on every search form, an order "Released" showed QA's 已放行,
a rejected change request showed 不合格 (nonconforming). Words whose meaning depends on the page carry
a pgettext context instead (issue 17 screenshot pass)."""

import django.utils.translation as tr
import polib
import pytest

from administration.models import ChangeStatus
from integrations.models import InboxStatus
from mes.models import MasterDataChangeStatus
from orders.models import OrderStatus
from quality.models import InspectionStatus
from reports.models import DistributionStatus
from tests.foundation.test_i18n import CATALOGUES, ROOT

# Shadowed today by another catalogue's translation of the same msgid, read in context on the zh-hans
# screenshots and judged to mean the same thing there (e.g. 搜索 for 查询, 已创建 for 创建时间).
# Do not grow this list: give a new ambiguous word a context (pgettext / {% trans ... context %}).
SAME_MEANING = {
    "A rejection needs a reason.", "Action", "Administration", "Batches", "Blocked", "By", "Change",
    "Created", "Description", "Equipment", "Generated", "Group", "History", "In progress", "Key",
    "Kind", "Name", "Old value", "Open", "Planned", "QC release", "Raised", "Rejected", "Remove", "Result",
    "Returned", "Search", "To", "You do not have permission to perform this action.", "by", "description",
    "inactive", "instruction", "kind", "raised at", "result",
}  # fmt: skip


@pytest.fixture
def zh():
    with tr.override("zh-hans"):
        yield


def _shown(entry: polib.POEntry) -> str:
    return tr.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else tr.gettext(entry.msgid)


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_screen_shows_the_catalogues_own_translation(zh, po_path):
    shadowed = [
        f"{e.msgid!r}: catalogue {e.msgstr!r}, shown {_shown(e)!r}"
        for e in polib.pofile(str(po_path)).translated_entries()
        if not e.msgid_plural and e.msgid not in SAME_MEANING and _shown(e) != e.msgstr
    ]
    assert not shadowed, "another catalogue wins for these msgids; give them a context: " + "; ".join(shadowed)


def test_words_that_meant_something_else_in_context(zh):
    assert tr.pgettext("search form button", "Filter") == "筛选"
    assert str(OrderStatus.RELEASED.label) == "已下达"
    assert str(ChangeStatus.REJECTED.label) == "已驳回"
    assert str(MasterDataChangeStatus.REJECTED.label) == "已驳回"
    assert str(InboxStatus.FAILED.label) == "失败"
    assert str(DistributionStatus.FAILED.label) == "失败"
    assert tr.pgettext("navigation", "Maintenance") == "维护维修"
    assert str(InspectionStatus.DUE.label) == "待检"
    assert tr.pgettext("CAPA", "Action") == "措施"  # the measure to take, not admin's 动作

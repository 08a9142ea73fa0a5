"""返工 (material rework) and 重新编辑 (an order sent back to draft) are different words in Chinese for one
English word, "Rework" (issue 17): the order action carries its own context."""

from __future__ import annotations

from django.utils import translation

from orders.models import ORDER_MACHINE, RecipePurpose
from quality.models.common import DispositionKind as Disposition


def test_the_order_action_and_material_rework_read_apart_in_chinese():
    action = next(t for t in ORDER_MACHINE.transitions if t.name == "rework")
    with translation.override("zh-hans"):
        assert str(action.label) == "重新编辑"
        assert str(Disposition.REWORK.label) == "返工"
        assert str(RecipePurpose.REWORK.label) == "返工"
    with translation.override("en"):
        assert str(action.label) == str(Disposition.REWORK.label) == "Rework"

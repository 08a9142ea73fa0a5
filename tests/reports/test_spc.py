"""SPC: I-MR limits, Western Electric rules on known sequences, Cp/Cpk (REP-2)."""

from __future__ import annotations

import pytest

from reports.spc import capability, imr_chart, western_electric

pytestmark = pytest.mark.req("REP-2")


def test_imr_limits_hand_computed():
    chart = imr_chart([10.0, 12.0, 11.0, 13.0, 12.0])
    # mean 11.6; moving ranges 2, 1, 2, 1 -> MR-bar 1.5; sigma 1.5 / 1.128; limits mean +/- 2.66 MR-bar
    assert chart.mean == pytest.approx(11.6)
    assert chart.mr_mean == pytest.approx(1.5)
    assert chart.sigma == pytest.approx(1.5 / 1.128)
    assert chart.ucl == pytest.approx(11.6 + 3 * 1.5 / 1.128)
    assert chart.lcl == pytest.approx(11.6 - 3 * 1.5 / 1.128)
    assert chart.mr_ucl == pytest.approx(3.267 * 1.5)
    assert chart.violations == {}
    assert imr_chart([5.0]) is None


def test_rule_1_one_point_beyond_three_sigma():
    assert western_electric([0, 0.5, -3.5, 0.2], 0, 1) == {2: [1]}


def test_rule_2_two_of_three_beyond_two_sigma_same_side():
    assert western_electric([0, 2.5, 0.3, 2.2], 0, 1) == {3: [2]}
    # two beyond 2 sigma but on opposite sides: no signal
    assert western_electric([0, 2.5, -2.2], 0, 1) == {}


def test_rule_3_four_of_five_beyond_one_sigma_same_side():
    assert western_electric([-0.5, 1.5, 1.2, 0.5, 1.8, 1.1], 0, 1) == {5: [3]}


def test_rule_4_eight_in_a_row_on_one_side():
    values = [-0.1, 0.2, 0.3, 0.1, 0.4, 0.5, 0.2, 0.3, 0.6, -0.2]
    assert western_electric(values, 0, 1) == {8: [4]}


def test_several_rules_on_one_point():
    # 8th point above the centre line and beyond 3 sigma
    values = [0.5, 0.4, 0.6, 0.5, 0.3, 0.4, 0.2, 3.4]
    assert western_electric(values, 0, 1) == {7: [1, 4]}


def test_capability_against_recipe_limits():
    cap = capability(mean=10.0, sigma=0.5, lsl=8.0, usl=13.0)
    assert cap.cp == pytest.approx(5 / 3)  # (13 - 8) / 3
    assert cap.cpk == pytest.approx(4 / 3)  # min(3, 2) / 1.5
    one_sided = capability(mean=10.0, sigma=0.5, lsl=None, usl=11.5)
    assert one_sided.cp is None and one_sided.cpk == pytest.approx(1.0)

"""Statistical process control for critical process parameters.

Individuals / moving-range (I-MR) chart: centre line = mean, sigma estimated from the mean moving
range (MR-bar / d2, d2 = 1.128 for n = 2), control limits at +/- 3 sigma (= 2.66 MR-bar); MR chart
upper limit = 3.267 MR-bar. Out-of-control points by the Western Electric rules. Cp/Cpk against
the recipe's minimum and maximum (the specification limits of the parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, field

D2 = 1.128
D4 = 3.267


@dataclass
class ImrChart:
    values: list[float]
    mean: float
    sigma: float
    ucl: float
    lcl: float
    moving_ranges: list[float]
    mr_mean: float
    mr_ucl: float
    violations: dict[int, list[int]] = field(default_factory=dict)  # point index -> rules broken

    def zone(self, k: float) -> tuple[float, float]:
        return self.mean - k * self.sigma, self.mean + k * self.sigma


def imr_chart(values: list[float]) -> ImrChart | None:
    """The I-MR chart of a series (None below two points: no moving range to estimate sigma)."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    mrs = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    mr_mean = sum(mrs) / len(mrs)
    sigma = mr_mean / D2
    chart = ImrChart(values, mean, sigma, mean + 3 * sigma, mean - 3 * sigma, mrs, mr_mean, D4 * mr_mean)
    chart.violations = western_electric(values, mean, sigma)
    return chart


def _flag(found: dict[int, list[int]], index: int, rule: int) -> None:
    rules = found.setdefault(index, [])
    if rule not in rules:
        rules.append(rule)


def western_electric(values: list[float], mean: float, sigma: float) -> dict[int, list[int]]:
    """Indexes of points breaking each Western Electric rule (the point completing the pattern).

    1: one point beyond 3 sigma.
    2: two of three consecutive points beyond 2 sigma on the same side.
    3: four of five consecutive points beyond 1 sigma on the same side.
    4: eight consecutive points on the same side of the centre line.
    """
    found: dict[int, list[int]] = {}
    if sigma <= 0:
        return found
    z = [(v - mean) / sigma for v in values]
    for i, zi in enumerate(z):
        if abs(zi) > 3:
            _flag(found, i, 1)
        for side in (1, -1):
            window3 = z[max(0, i - 2) : i + 1]
            if len(window3) == 3 and side * zi > 2 and sum(1 for x in window3 if side * x > 2) >= 2:
                _flag(found, i, 2)
            window5 = z[max(0, i - 4) : i + 1]
            if len(window5) == 5 and side * zi > 1 and sum(1 for x in window5 if side * x > 1) >= 4:
                _flag(found, i, 3)
            window8 = z[max(0, i - 7) : i + 1]
            if len(window8) == 8 and all(side * x > 0 for x in window8):
                _flag(found, i, 4)
    return {i: sorted(r) for i, r in sorted(found.items())}


@dataclass
class Capability:
    cp: float | None
    cpk: float | None


def capability(mean: float, sigma: float, lsl: float | None, usl: float | None) -> Capability:
    """Cp needs both limits; Cpk uses whichever limits exist (one-sided if only one)."""
    if sigma <= 0:
        return Capability(None, None)
    cp = (usl - lsl) / (6 * sigma) if lsl is not None and usl is not None else None
    sides = []
    if usl is not None:
        sides.append((usl - mean) / (3 * sigma))
    if lsl is not None:
        sides.append((mean - lsl) / (3 * sigma))
    return Capability(cp, min(sides) if sides else None)

"""What a batch needs of a material: the value a BOM line gives for the batch size.

`Requirement` is the small, stable shape the issue service checks against. Batch execution can
pass its BOM line object straight to `Requirement.of(line)` (duck-typed: material, quantity, unit,
tolerance_pct, second_person), or register a provider so the operator's issue screen lists a
batch's lines. A requirement can also travel in a link as a signed token (`requirement_token`),
so a screen can be opened for one line without the operator being able to change what it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing

from materials.models import Material

_SALT = "materials.requirement"
_PROVIDERS: list[Callable[[Any], list]] = []


@dataclass(frozen=True)
class Requirement:
    material: Any  # materials.Material
    quantity: Decimal | None
    unit: str
    tolerance_pct: Decimal = Decimal(0)
    second_person: bool = False
    line_ref: str = ""  # which BOM line (for the ledger entry and the audit trail)

    def __post_init__(self) -> None:
        if self.quantity is not None:
            object.__setattr__(self, "quantity", Decimal(str(self.quantity)))
        object.__setattr__(self, "tolerance_pct", Decimal(str(self.tolerance_pct or 0)))

    @classmethod
    def of(cls, source: Any) -> Requirement:
        """A Requirement from itself, or from any object with the BOM line's attribute names."""
        if isinstance(source, cls):
            return source

        def pick(*names, default=None):
            return next((getattr(source, n) for n in names if getattr(source, n, None) is not None), default)

        return cls(
            material=pick("material"),
            quantity=pick("quantity", "required_quantity"),
            unit=pick("unit", default=getattr(pick("material"), "unit", "")),
            tolerance_pct=pick("tolerance_pct", "tolerance", default=0),
            second_person=bool(pick("second_person", "weigh_and_verify", "second_person_verification", default=False)),
            line_ref=str(pick("line_ref", "pk", default="")),
        )


def register_provider(provider: Callable[[Any], list]) -> None:
    """Register `provider(batch) -> [line objects or Requirements]` (for example from the recipe)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def unregister_provider(provider: Callable[[Any], list]) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def batch_requirements(batch) -> list[Requirement]:
    """Every material line a batch needs, from all registered providers."""
    return [Requirement.of(line) for provider in list(_PROVIDERS) for line in (provider(batch) or [])]


def requirement_token(req: Requirement, batch) -> str:
    """A signed, tamper-proof token carrying the requirement for one batch.

    Signed without a timestamp: the same line of the same batch always gives the same link, so a
    page rendered a second later (or by another worker) links to the same screen.
    """
    return signing.Signer(salt=_SALT).sign_object(
        {
            "b": batch.pk,
            "m": req.material.pk,
            "q": str(req.quantity),
            "u": req.unit,
            "t": str(req.tolerance_pct),
            "v": req.second_person,
            "r": req.line_ref,
        },
    )


def requirement_from_token(token: str, batch) -> Requirement | None:
    """The requirement in a token made for this batch; None when it is invalid or for another batch."""
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if data.get("b") != batch.pk:
        return None
    material = Material.objects.filter(pk=data["m"]).first()
    if material is None:
        return None
    return Requirement(
        material=material,
        quantity=Decimal(data["q"]),
        unit=data["u"],
        tolerance_pct=Decimal(data["t"]),
        second_person=bool(data["v"]),
        line_ref=data.get("r", ""),
    )

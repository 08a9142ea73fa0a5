"""Specification services: drafts, test items, review, approval by another person, versions."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password
from materials.models import Material
from mes.generated import GeneratedText
from mes.workflow import transition_apply
from quality.models import SPEC_MACHINE, LimitKind, Specification, SpecStatus, TestItem
from quality.services.common import require

SUPERSEDED = GeneratedText(gettext_noop("superseded by version %(v)s"))
COPIED_FROM = GeneratedText(gettext_noop("copied from version %(v)s"))

HEADER_FIELDS = ("title", "reference", "sample_size")
ITEM_FIELDS = ("sequence", "name", "name_zh", "method", "kind", "unit", "lower_limit", "upper_limit", "acceptance")


def _locked_draft(spec_id: int) -> Specification:
    spec = Specification.objects.select_for_update().get(pk=spec_id)
    if spec.status != SpecStatus.DRAFT:
        raise ValidationError(_("Only a draft specification can be changed. Create a new version instead."))
    return spec


def _refuse_second_open_version(material: Material, inspection_type: str) -> None:
    open_versions = Specification.objects.filter(
        material=material, inspection_type=inspection_type, status__in=(SpecStatus.DRAFT, SpecStatus.IN_REVIEW)
    )
    if open_versions.exists():
        raise ValidationError(
            _("A draft of this specification already exists (version %(v)s). Finish or retire it first.")
            % {"v": open_versions.first().version}
        )


def spec_create(
    *, user, material: Material, inspection_type: str, title: str, reference: str = "", sample_size: str = ""
) -> Specification:
    """A new draft specification (version 1, or the next version number for this material and type)."""
    require(user, "quality.add_specification", _("write specifications"))
    if not title.strip():
        raise ValidationError({"title": _("Give the specification a title.")})
    with transaction.atomic():
        Material.objects.select_for_update().get(pk=material.pk)
        _refuse_second_open_version(material, inspection_type)
        last = Specification.objects.filter(material=material, inspection_type=inspection_type).aggregate(
            v=Max("version")
        )["v"]
        with audit_context(actor=user, action="quality.specification.create"):
            return Specification.objects.create(
                material=material,
                inspection_type=inspection_type,
                version=(last or 0) + 1,
                title=title.strip(),
                reference=reference.strip(),
                sample_size=sample_size.strip(),
                author=user,
            )


def spec_update(*, user, spec_id: int, reason: str = "", **values) -> Specification:
    """Change the header of a draft."""
    require(user, "quality.change_specification", _("change specifications"))
    unknown = set(values) - set(HEADER_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        spec = _locked_draft(spec_id)
        for k, v in values.items():
            setattr(spec, k, (v or "").strip())
        with audit_context(actor=user, action="quality.specification.update", reason=reason):
            spec.save()
        return spec


def _check_item(values: dict) -> None:
    if not (values.get("name") or "").strip():
        raise ValidationError({"name": _("Name the test.")})
    kind = values.get("kind")
    lo, hi = values.get("lower_limit"), values.get("upper_limit")
    if kind == LimitKind.NUMERIC:
        if lo is None and hi is None:
            raise ValidationError({"lower_limit": _("A numeric test needs at least one limit.")})
        if lo is not None and hi is not None and Decimal(lo) > Decimal(hi):
            raise ValidationError({"lower_limit": _("The lower limit is above the upper limit.")})
    else:
        if lo is not None or hi is not None:
            raise ValidationError({"lower_limit": _("Only a numeric test has numeric limits.")})
        if kind == LimitKind.TEXT and not (values.get("acceptance") or "").strip():
            raise ValidationError({"acceptance": _("A text test needs its acceptance criterion.")})


def spec_item_save(*, user, spec_id: int, item_id: int | None = None, **values) -> TestItem:
    """Add or change a test item of a draft specification."""
    require(user, "quality.change_specification", _("change specifications"))
    unknown = set(values) - set(ITEM_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        spec = _locked_draft(spec_id)
        item = spec.items.select_for_update().get(pk=item_id) if item_id else TestItem(specification=spec)
        if item.removed:
            raise ValidationError(_("This test was removed from the draft."))
        merged = {k: values.get(k, getattr(item, k)) for k in ITEM_FIELDS}
        _check_item(merged)
        for k, v in values.items():
            setattr(item, k, v.strip() if isinstance(v, str) else v)
        item.full_clean(exclude=["specification"])
        with audit_context(actor=user, action="quality.specification.item_save", reason=str(spec)):
            item.save()
        return item


def spec_item_remove(*, user, spec_id: int, item_id: int, reason: str = "") -> TestItem:
    """Remove a test item from a draft (kept, marked removed: records are never deleted)."""
    require(user, "quality.change_specification", _("change specifications"))
    with transaction.atomic():
        spec = _locked_draft(spec_id)
        item = spec.items.select_for_update().get(pk=item_id)
        item.removed = True
        with audit_context(actor=user, action="quality.specification.item_remove", reason=reason):
            item.save()
        return item


def spec_submit(*, user, spec_id: int, password: str, reason: str = "") -> Specification:
    """The author signs the draft and sends it for approval."""

    def guard(spec: Specification) -> None:
        if not spec.items.filter(removed=False).exists():
            raise ValidationError(_("A specification needs at least one test before it is submitted."))

    return transition_apply(
        model=Specification,
        pk=spec_id,
        machine=SPEC_MACHINE,
        name="submit",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
    )


def spec_return(*, user, spec_id: int, reason: str) -> Specification:
    return transition_apply(
        model=Specification, pk=spec_id, machine=SPEC_MACHINE, name="return", user=user, reason=reason
    )


def spec_approve(*, user, spec_id: int, password: str, reason: str = "") -> Specification:
    """A person other than the author approves; the version becomes effective and the previous one is superseded."""

    def guard(spec: Specification) -> None:
        if spec.author_id == user.pk:
            raise ValidationError(_("The author of a specification cannot approve it. Another person must."))

    def supersede_previous(spec: Specification) -> None:
        previous = (
            Specification.objects.select_for_update()
            .filter(material_id=spec.material_id, inspection_type=spec.inspection_type, status=SpecStatus.EFFECTIVE)
            .exclude(pk=spec.pk)
        )
        for old in previous:
            transition_apply(
                model=Specification,
                pk=old.pk,
                machine=SPEC_MACHINE,
                name="supersede",
                user=user,
                reason=SUPERSEDED % {"v": spec.version},
            )

    # The password is checked before the transaction so that a wrong one stays audited; the previous
    # effective version is superseded first (one effective version at a time), all or nothing.
    signature_check_password(user=user, password=password or "", purpose="quality.specification.approve")
    with transaction.atomic():
        supersede_previous(Specification.objects.get(pk=spec_id))
        return transition_apply(
            model=Specification,
            pk=spec_id,
            machine=SPEC_MACHINE,
            name="approve",
            user=user,
            password=password,
            reason=reason,
            guard=guard,
            changes={"approved_by": user, "effective_at": timezone.now()},
        )


def spec_retire(*, user, spec_id: int, password: str, reason: str) -> Specification:
    return transition_apply(
        model=Specification,
        pk=spec_id,
        machine=SPEC_MACHINE,
        name="retire",
        user=user,
        password=password,
        reason=reason,
    )


def spec_new_version(*, user, spec_id: int) -> Specification:
    """Copy a specification with its active test items into a new draft version."""
    require(user, "quality.add_specification", _("write specifications"))
    with transaction.atomic():
        source = Specification.objects.get(pk=spec_id)
        copy = spec_create(
            user=user,
            material=source.material,
            inspection_type=source.inspection_type,
            title=source.title,
            reference=source.reference,
            sample_size=source.sample_size,
        )
        with audit_context(
            actor=user,
            action="quality.specification.new_version",
            reason=COPIED_FROM % {"v": source.version},
        ):
            for item in source.items.filter(removed=False):
                TestItem.objects.create(specification=copy, **{k: getattr(item, k) for k in ITEM_FIELDS})
        return copy


def effective_spec(material, inspection_type: str) -> Specification | None:
    """The effective specification of a material for an inspection type, if any."""
    return (
        Specification.objects.filter(material=material, inspection_type=inspection_type, status=SpecStatus.EFFECTIVE)
        .prefetch_related("items")
        .first()
    )

"""Specifications: drafts, limits, approval by another person with e-signature, one effective version."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.signatures import SignatureError, signatures_for
from quality import services
from quality.models import Specification, SpecStatus
from tests.quality.conftest import make_spec

pytestmark = pytest.mark.django_db


@pytest.mark.req("QC-1")
def test_spec_approved_by_another_person_becomes_effective_with_signatures(users, password, material):
    spec = make_spec(users, password, material)
    assert spec.status == SpecStatus.EFFECTIVE and spec.approved_by == users["qa"]
    meanings = sorted(s.meaning for s in signatures_for(spec))
    assert meanings == ["approved", "authored"]
    assert [i.limit_text for i in spec.active_items()] == ["98 – 102 %", "Pass", "White powder"]


def test_author_cannot_approve_own_spec(users, password, material):
    from django.contrib.auth.models import Group

    spec = make_spec(users, password, material, approve=False)
    services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)
    qc = users["qc"]
    qc.groups.add(Group.objects.get(name="qa"))
    qc = type(qc).objects.get(pk=qc.pk)
    with pytest.raises(ValidationError, match="author"):
        services.spec_approve(user=qc, spec_id=spec.pk, password=password)
    spec.refresh_from_db()
    assert spec.status == SpecStatus.IN_REVIEW


def test_wrong_password_signs_nothing(users, password, material):
    spec = make_spec(users, password, material, approve=False)
    services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)
    with pytest.raises(SignatureError):
        services.spec_approve(user=users["qa"], spec_id=spec.pk, password="wrong")
    spec.refresh_from_db()
    assert spec.status == SpecStatus.IN_REVIEW


def test_new_version_supersedes_previous_on_approval(users, password, material):
    v1 = make_spec(users, password, material)
    v2 = services.spec_new_version(user=users["qc"], spec_id=v1.pk)
    assert v2.version == 2 and v2.status == SpecStatus.DRAFT and len(v2.active_items()) == 3
    services.spec_submit(user=users["qc"], spec_id=v2.pk, password=password)
    services.spec_approve(user=users["qa"], spec_id=v2.pk, password=password)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (SpecStatus.SUPERSEDED, SpecStatus.EFFECTIVE)
    assert services.effective_spec(material, "incoming") == v2
    assert Specification.objects.filter(material=material, status=SpecStatus.EFFECTIVE).count() == 1


def test_effective_spec_cannot_be_edited(users, spec):
    with pytest.raises(ValidationError):
        services.spec_item_save(user=users["qc"], spec_id=spec.pk, name="X", kind="pass_fail")


def test_item_limits_are_checked(users, password, material):
    spec = services.spec_create(user=users["qc"], material=material, inspection_type="incoming", title="S")
    with pytest.raises(ValidationError):
        services.spec_item_save(user=users["qc"], spec_id=spec.pk, name="Assay", kind="numeric")
    with pytest.raises(ValidationError):
        services.spec_item_save(
            user=users["qc"],
            spec_id=spec.pk,
            name="Assay",
            kind="numeric",
            lower_limit=Decimal("5"),
            upper_limit=Decimal("1"),
        )
    with pytest.raises(ValidationError):
        services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)


def test_operator_cannot_write_specs(users, material):
    with pytest.raises(PermissionDenied):
        services.spec_create(user=users["operator"], material=material, inspection_type="incoming", title="S")


def test_spec_pages(client_for, spec, django_assert_max_num_queries):
    qc = client_for("qc")
    with django_assert_max_num_queries(12):
        assert qc.get("/quality/specifications/").status_code == 200
    page = qc.get(f"/quality/specifications/{spec.pk}/")
    assert page.status_code == 200 and "98 – 102 %" in page.content.decode()

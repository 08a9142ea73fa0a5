"""Invisible direction controls (issue 15, Trojan Source): refused in names and free text, in every
form through the shared validator and in the services that take reasons, so the API cannot bypass it."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from administration.models import ConfigParameter
from administration.services.config import config_propose
from audit.context import audit_context
from audit.signatures import signature_sign
from audit.text_safety import BIDI_CONTROLS, validate_no_bidi

pytestmark = pytest.mark.django_db
RLO = "\u202e"
CODES = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F]


@pytest.mark.parametrize("code", CODES)
def test_each_direction_control_is_refused_with_its_code(code):
    with pytest.raises(ValidationError) as caught:
        validate_no_bidi(f"lot 12{chr(code)}34")
    assert f"U+{code:04X}" in caught.value.messages[0] and "direction-control" in caught.value.messages[0]
    assert {ord(c) for c in BIDI_CONTROLS} == set(CODES)


def test_ordinary_text_in_any_script_passes():
    for text in ("Granulation line 2", "颗粒车间 二号线", "مرحبا", "שלום", "naïve — “quoted” 10 % ±0.5"):
        validate_no_bidi(text)


def test_every_form_text_field_refuses_it_and_the_message_is_translated():
    class Anything(forms.Form):
        name = forms.CharField()
        note = forms.CharField(widget=forms.Textarea)

    form = Anything({"name": f"Tablet{RLO}gnp.exe", "note": "fine"})
    assert not form.is_valid() and "direction-control" in form.errors["name"][0]
    with translation.override("zh-hans"):
        form = Anything({"name": f"Tablet{RLO}", "note": "x"})
        assert not form.is_valid() and "U+202E" in form.errors["name"][0]
        assert "direction-control" not in form.errors["name"][0]


def test_the_user_page_refuses_a_name_with_an_override(client_for, users):
    page = client_for("admin").post(
        reverse("administration:user_new"),
        {
            "username": "li.na",
            "first_name": f"Na{RLO}",
            "roles": ["planner"],
            "password1": "Granulation-Line-2026",
            "password2": "Granulation-Line-2026",
            "reason": "joined",
        },
    )
    assert page.status_code == 200 and "U+202E" in page.content.decode()
    assert not get_user_model().objects.filter(username="li.na").exists()


def test_services_refuse_it_in_reasons_so_the_api_cannot_bypass_the_forms(users, password):
    parameter = ConfigParameter.objects.get(name="auth.lockout_threshold")
    with pytest.raises(ValidationError, match="U\\+2067"):
        config_propose(user=users["admin"], parameter_id=parameter.pk, new_value="7", reason="per SOP\u2067 x")
    assert not parameter.changes.exists()
    with pytest.raises(ValidationError, match="U\\+202E"):
        with audit_context(actor=users["admin"], action="x", reason=f"ok{RLO}"):
            pass
    with pytest.raises(ValidationError, match="U\\+200F"):
        signature_sign(user=users["qa"], password=password, obj=parameter, meaning="reviewed", reason="r\u200f")
    assert not parameter.history.filter(history_change_reason__contains=RLO).exists()

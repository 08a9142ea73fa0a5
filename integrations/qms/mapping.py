"""QMS messages <-> MES records. Outbound: deviations (put in the outbox by `subscribers.py` when
the quality app announces `deviation_raised`, in the same transaction). Inbound: CAPA decisions,
applied through the quality app's CAPA services as the QMS integration account.

What an external CAPA decision may do in a GMP plant (the choice made here):
- "approved": the QMS approved a CAPA plan for one of our deviations. Creating the actions is not a
  signed step in the MES (`capa_create`), so the MES creates one CAPA per action, owned by the MES
  user the QMS names, each action text carrying the QMS reference. Applied once per QMS reference.
- "rejected": the QMS found the actions not effective. Reopening is an unsigned step with a reason
  (`capa_reopen`): the CAPAs of that reference waiting for their effectiveness check go back to work,
  the reason naming the QMS reference, who decided and when.
- "closed": closing a CAPA is an electronically signed step (meaning "closed") by a verifier who is
  not the owner. A signature is a person's, given with their own password at the moment of signing
  (21 CFR 11.50/11.200, EU GMP Annex 11 §14); an integration account has no password and cannot sign
  for the person named in the QMS. So the MES never closes a CAPA from a message: the message is
  parked, saying which CAPAs a QA verifier must sign in the MES. Once they are signed, replaying the
  message (message log page) finds them closed and records the QMS decision as processed. A CAPA the
  owner has not yet submitted evidence for is refused (failed): the QMS decided ahead of the MES record.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audit.context import audit_context
from integrations.models import InboxMessage, InboxStatus
from integrations.services.accounts import inbound_actor
from integrations.services.inbox import Parked
from mes.generated import GeneratedText
from quality.models import CAPA, CAPAStatus, Deviation
from quality.services import capa_create, capa_reopen

QMS_NOT_EFFECTIVE = GeneratedText(gettext_noop("QMS %(r)s not effective (%(by)s, %(at)s): %(c)s"))


# --- outbound ----------------------------------------------------------------------------------
def deviation_payload(deviation) -> dict:
    """A deviation as the QMS records it; `deviation_reference` is what its CAPA decisions quote."""
    return {
        "deviation_reference": deviation.number,
        "title": deviation.title,
        "description": deviation.description,
        "source": deviation.source,
        "classification": deviation.classification,
        "status": deviation.status,
        "raised_by": deviation.raised_by.username if deviation.raised_by_id else "",
        "raised_at": deviation.raised_at.isoformat(),
        "links": [
            {"type": link.object_type, "id": link.object_id, "label": link.label} for link in deviation.links.all()
        ],
    }


# --- inbound -----------------------------------------------------------------------------------
class CapaDecisionSerializer(serializers.Serializer):
    deviation_reference = serializers.CharField(max_length=60, help_text=_("The MES deviation number."))
    capa_reference = serializers.CharField(max_length=60, help_text=_("The QMS's CAPA number."))
    decision = serializers.ChoiceField(choices=["approved", "rejected", "closed"])
    actions = serializers.ListField(child=serializers.CharField(max_length=500), required=False, default=list)
    kind = serializers.ChoiceField(choices=["corrective", "preventive"], required=False, default="corrective")
    owner = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", help_text=_("MES user name of the action owner.")
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    decided_by = serializers.CharField(max_length=150)
    decided_at = serializers.DateTimeField()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["decision"] == "approved":
            missing = {
                name: [gettext("An approved CAPA plan needs this.")]
                for name in ("actions", "owner", "due_date")
                if not data.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return data


def _deviation(number: str):
    try:
        return Deviation.objects.get(number=number)
    except ObjectDoesNotExist:
        raise ValidationError(
            {"deviation_reference": [gettext("No deviation %(n)s in the MES.") % {"n": number}]}
        ) from None


def _applied_plan(message, capa_reference: str):
    """The earlier approved plan of this QMS CAPA that the MES applied (its inbox message), or None."""
    return (
        InboxMessage.objects.filter(
            system=message.system,
            kind=message.kind,
            status=InboxStatus.PROCESSED,
            payload__capa_reference=capa_reference,
            payload__decision="approved",
        )
        .exclude(pk=message.pk)
        .order_by("pk")
        .first()
    )


def _capas_of(message, data):
    plan = _applied_plan(message, data["capa_reference"])
    numbers = (plan.result or {}).get("capas", []) if plan else []
    if not numbers:
        raise ValidationError(
            {
                "capa_reference": [
                    gettext("No approved plan of %(r)s was applied in the MES.") % {"r": data["capa_reference"]}
                ]
            }
        )
    return list(CAPA.objects.filter(number__in=numbers).order_by("pk"))


def _approve(message, data, actor) -> dict:
    plan = _applied_plan(message, data["capa_reference"])
    if plan is not None:  # the same plan sent again (another message id): nothing more to create
        return {**plan.result, "duplicate": True}
    deviation = _deviation(data["deviation_reference"])
    owner = get_user_model().objects.filter(username=data["owner"], is_active=True).first()
    if owner is None:
        raise ValidationError({"owner": [gettext("No active MES user %(u)s.") % {"u": data["owner"]}]})
    capas = [
        capa_create(
            user=actor,
            deviation_id=deviation.pk,
            kind=data["kind"],
            action=f"{text} [QMS {data['capa_reference']}]",
            owner=owner,
            due_date=data["due_date"],
        )
        for text in data["actions"]
    ]
    return {"decision": "approved", "deviation": deviation.number, "capas": [c.number for c in capas]}


def _reject(message, data, actor) -> dict:
    reason = QMS_NOT_EFFECTIVE % {
        "r": data["capa_reference"],
        "by": data["decided_by"],
        "at": data["decided_at"].isoformat(),
        "c": data["comment"] or "-",
    }
    reopened = [
        capa_reopen(user=actor, capa_id=capa.pk, reason=reason).number
        for capa in _capas_of(message, data)
        if capa.status == CAPAStatus.EFFECTIVENESS_CHECK
    ]
    return {"decision": "rejected", "reopened": reopened}


def _close(message, data, actor) -> dict:
    capas = _capas_of(message, data)
    unfinished = [c.number for c in capas if c.status in (CAPAStatus.OPEN, CAPAStatus.IN_PROGRESS)]
    if unfinished:
        raise ValidationError(
            gettext("The owner has not yet submitted evidence for %(c)s in the MES.") % {"c": ", ".join(unfinished)}
        )
    to_sign = [c.number for c in capas if c.status != CAPAStatus.CLOSED]
    if to_sign:
        raise Parked(
            gettext(
                "QMS %(r)s decided closed by %(by)s. Closing is a signed step: a QA verifier signs %(c)s in the MES, "
                "then replay this message."
            )
            % {"r": data["capa_reference"], "by": data["decided_by"], "c": ", ".join(to_sign)}
        )
    return {"decision": "closed", "capas": [c.number for c in capas], "signed_in_mes": True}


DECISIONS = {"approved": _approve, "rejected": _reject, "closed": _close}


def handle_capa_decision(payload, *, message, actor) -> dict:
    serializer = CapaDecisionSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    actor = inbound_actor(message)
    if actor is None:
        raise ValidationError(gettext("CAPA decisions are applied by the QMS integration account; none is active."))
    # The reason of every audit event below names the source message (history keeps 100 characters).
    source = (
        gettext("QMS %(r)s, inbox #%(pk)s: %(id)s")
        % {
            "id": message.message_id,
            "pk": message.pk,
            "r": data["capa_reference"],
        }
    )[:100]
    with audit_context(actor=actor, action=f"integrations.inbox.qms.{message.kind}", reason=source):
        return DECISIONS[data["decision"]](message, data, actor)


INBOUND = {"capa_decision": handle_capa_decision}

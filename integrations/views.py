"""The message log for administrators: every outbound and inbound message, its status, payload,
attempts and last error, with replay of dead letters and failed messages."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations.models import InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, System
from integrations.services import inbox_replay, outbox_replay
from integrations.services.inbox import REPLAYABLE

VIEW = "integrations.view_message_log"
REPLAY = "integrations.replay_message"


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@permission_required(VIEW, raise_exception=True)
def message_list(request):
    direction = "inbox" if request.GET.get("direction") == "inbox" else "outbox"
    model, statuses = (InboxMessage, InboxStatus) if direction == "inbox" else (OutboxMessage, OutboxStatus)
    qs = model.objects.order_by("-id")
    system, state = request.GET.get("system", ""), request.GET.get("status", "")
    if system in System.values:
        qs = qs.filter(system=system)
    if state in statuses.values:
        qs = qs.filter(status=state)
    fields = ["id", "system", "kind", "status", "attempts", "last_error"]
    fields += ["key", "created_at"] if direction == "outbox" else ["message_id", "received_at"]
    page = Paginator(qs.only(*fields), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = dict(model.objects.values_list("status").annotate(n=Count("id")).order_by())
    return render(
        request,
        "integrations/message_list.html",
        {
            "direction": direction,
            "page": page,
            "query": query.urlencode(),
            "systems": System.choices,
            "statuses": [(code, label, counts.get(code, 0)) for code, label in statuses.choices],
            "system": system,
            "state": state,
        },
    )


@permission_required(VIEW, raise_exception=True)
def outbox_detail(request, pk: int):
    message = get_object_or_404(OutboxMessage, pk=pk)
    return render(
        request,
        "integrations/message_detail.html",
        {
            "message": message,
            "direction": "outbox",
            "payload": _pretty(message.payload),
            "can_replay": message.status == OutboxStatus.DEAD and request.user.has_perm(REPLAY),
            "replay_url": "integrations:outbox_replay",
        },
    )


@permission_required(VIEW, raise_exception=True)
def inbox_detail(request, pk: int):
    message = get_object_or_404(InboxMessage, pk=pk)
    return render(
        request,
        "integrations/message_detail.html",
        {
            "message": message,
            "direction": "inbox",
            "payload": _pretty(message.payload) if message.payload is not None else message.raw,
            "result": _pretty(message.result) if message.result is not None else "",
            "can_replay": message.status in REPLAYABLE and request.user.has_perm(REPLAY),
            "replay_url": "integrations:inbox_replay",
        },
    )


def _replay(request, pk: int, service, detail: str):
    try:
        service(actor=request.user, message_id=pk, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message was queued again."))
    return redirect(detail, pk=pk)


@require_POST
@permission_required(REPLAY, raise_exception=True)
def outbox_replay_view(request, pk: int):
    return _replay(request, pk, outbox_replay, "integrations:outbox_detail")


@require_POST
@permission_required(REPLAY, raise_exception=True)
def inbox_replay_view(request, pk: int):
    return _replay(request, pk, inbox_replay, "integrations:inbox_detail")

"""The outbox: messages to external systems, written with the business change, delivered reliably.

- `outbox_enqueue` is called by a domain service inside its own transaction: the message exists
  if and only if the business change committed. One event (system, kind, key) is one message.
- Delivery claims ONE due message at a time with SELECT ... FOR UPDATE SKIP LOCKED, marks it
  `sending` with a claim token and a lease sized from the system's time-out (the longest a request
  can take, plus a margin), commits, sends, and records the result at once. So a slow receiver
  never holds a batch of unrecorded results, a claim cannot expire while its request may still be
  in flight, and a worker that dies mid-send leaves one message whose lease expires; it is then
  claimed again with the same Idempotency-Key, so the receiver can tell it is a retry.
- Failures are retried with exponential backoff and jitter (after a time-out, not before the
  time-out has passed again: the receiver may still be working on the first request); after
  MES_OUTBOX_MAX_ATTEMPTS, time-outs included (or at once when the receiver refuses the message
  itself) the message becomes a dead letter, visible on the message log page, where an
  administrator can replay it.
- Nothing depends on the broker staying up: the beat sweeper re-queues whatever is due.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from integrations.models import OutboxMessage, OutboxStatus, System
from integrations.transport import DeliveryError, NotConfigured, max_exchange_seconds, system_timeout

logger = logging.getLogger("integrations.outbox")
REPLAY_PERMISSION = "integrations.replay_message"


# --- writing ---------------------------------------------------------------------------------
def outbox_enqueue(*, system: str, kind: str, payload: dict, key: str) -> OutboxMessage:
    """Add one message for `system` in the caller's transaction (idempotent per system/kind/key).

    Call it inside the domain service's `transaction.atomic()` block, after the business change.
    The dispatch task is queued only once the transaction commits.
    """
    if system not in System.values:
        raise ValueError(f"unknown system {system!r}")
    message, created = OutboxMessage.objects.get_or_create(
        system=system, kind=kind, key=str(key)[:200], defaults={"payload": payload}
    )
    if created:
        _dispatch_on_commit(system)
    return message


def _dispatch_on_commit(system: str) -> None:
    """Queue one dispatch per system per transaction (not one per message)."""
    if any(getattr(entry[1], "outbox_system", None) == system for entry in connection.run_on_commit):
        return

    def queue():
        outbox_dispatch_queue(system)

    queue.outbox_system = system
    transaction.on_commit(queue)


def outbox_dispatch_queue(system: str, countdown: float | None = None) -> bool:
    """Ask a worker to deliver `system`'s due messages. If the broker is down, the messages
    simply wait: the sweeper queues them again once it is back."""
    from integrations.tasks import outbox_dispatch

    try:
        if countdown:
            outbox_dispatch.apply_async(args=[system], countdown=countdown)
        else:
            outbox_dispatch.delay(system)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox row is the source of truth
        logger.warning("could not queue outbox dispatch for %s (%s); the sweeper will retry", system, exc)
        return False


# --- delivering ------------------------------------------------------------------------------
def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter: a random delay up to base * 2^(attempts-1), capped."""
    base = settings.MES_OUTBOX_BACKOFF_SECONDS
    cap = settings.MES_OUTBOX_BACKOFF_MAX_SECONDS
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return max(base / 2, random.uniform(0, ceiling))


def _due(now) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_until__lte=now
    )


def lease_seconds(system: str) -> float:
    """How long a claim holds: the longest one request to `system` can take, plus a margin for
    recording its result. A claim cannot expire while its request may still be in flight."""
    return max_exchange_seconds(system_timeout(system)) + settings.MES_OUTBOX_LEASE_MARGIN_SECONDS


def outbox_claim(*, system: str, limit: int, expired: bool = True) -> tuple[uuid.UUID, list[OutboxMessage]]:
    """Claim up to `limit` due messages of `system` for this worker (never one another holds).

    The delivery loop claims one at a time (`limit=1`): the lease covers one request, not a batch.
    Messages whose lease expired (a dead worker's) come first; `expired=False` skips looking for
    them (the delivery loop looks once per batch and whenever nothing is pending)."""
    now = timezone.now()
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=lease_seconds(system) * limit)
    messages: list[OutboxMessage] = []
    if expired:
        with transaction.atomic():
            locking = OutboxMessage.objects.select_for_update(skip_locked=True).filter(system=system)
            stale = list(
                locking.filter(status=OutboxStatus.SENDING, lease_until__lte=now).order_by("lease_until")[:limit]
            )
            if stale:
                _mark_claimed(stale, token, lease_until, now)
                messages = stale
    if len(messages) < limit:
        messages += _claim_pending(system, limit - len(messages), token, lease_until, now)
    return token, messages


def _mark_claimed(messages: list[OutboxMessage], token, lease_until, now) -> None:
    # Plain (non-GMP) rows: a bulk update is the point. `attempts` counts this try.
    OutboxMessage.objects.filter(id__in=[m.id for m in messages]).update(
        status=OutboxStatus.SENDING,
        lease_until=lease_until,
        claim_token=token,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
    )
    for message in messages:  # the rows as updated, without reading them again
        message.status, message.lease_until, message.claim_token = OutboxStatus.SENDING, lease_until, token
        message.attempts += 1
        message.last_attempt_at = now


_CLAIM_PENDING_SQL = """
UPDATE integrations_outboxmessage SET status = 'sending', lease_until = %s, claim_token = %s,
       attempts = attempts + 1, last_attempt_at = %s
 WHERE id IN (SELECT id FROM integrations_outboxmessage
               WHERE system = %s AND status = 'pending' AND next_attempt_at <= %s
               ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING *
"""


def _claim_pending(system: str, limit: int, token, lease_until, now) -> list[OutboxMessage]:
    """Due pending messages in order, claimed in one statement on PostgreSQL (one round trip and one
    commit per claim: under a backlog the claim is most of a delivery's database work); the index
    (status, system, next_attempt_at, id) gives them in order without sorting the backlog."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            claimed = OutboxMessage.objects.raw(_CLAIM_PENDING_SQL, [lease_until, token, now, system, now, limit])
            return sorted(claimed, key=lambda m: (m.next_attempt_at, m.id))
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            system=system, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        )
        messages = list(pending.order_by("next_attempt_at", "id")[:limit])
        if messages:
            _mark_claimed(messages, token, lease_until, now)
        return messages


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    claimed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead += other.dead
        self.claimed += other.claimed
        self.errors.extend(other.errors[:5])


def outbox_deliver_batch(*, system: str, limit: int | None = None, deadline: float | None = None) -> DeliveryReport:
    """Deliver up to `limit` of `system`'s due messages, one claim and one recorded result each.

    Stops early when nothing is due, the receiver cannot be reached (the rest would fail the same)
    or the `deadline` (time.monotonic()) has passed: a slow receiver does not keep one task for ever."""
    from integrations.adapters import adapter

    client = adapter(system).client
    report = DeliveryReport()
    try:
        session = client.session()
    except NotConfigured as exc:
        token, messages = outbox_claim(system=system, limit=1)
        report.claimed = len(messages)
        error = DeliveryError(_("%(system)s is not connected: %(why)s") % {"system": system.upper(), "why": exc})
        for message in messages:
            _record_failure(token, message, error, report)
        return report
    with session:
        for n in range(limit or settings.MES_OUTBOX_BATCH):
            if deadline is not None and time.monotonic() > deadline:
                break
            token, messages = outbox_claim(system=system, limit=1, expired=n == 0)
            if not messages and n:
                token, messages = outbox_claim(system=system, limit=1)  # nothing pending: any expired lease?
            if not messages:
                break
            message = messages[0]
            report.claimed += 1
            try:
                client.deliver(session, message)
            except DeliveryError as exc:
                _record_failure(token, message, exc, report)
                if exc.status is None and not exc.timed_out:
                    break  # unreachable: the next message would fail the same way
            else:
                _record_delivered(token, message, report)
    return report


def _async_commit() -> None:
    """This transaction's commit need not wait for the disk. Only for recording a delivery: were the
    database to crash and lose it, the message's lease runs out and it is sent again with the same
    Idempotency-Key (the receiver recognises it); never for the claim, whose loss could let a second
    worker send while the first is still sending."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_delivered(token, message: OutboxMessage, report: DeliveryReport) -> None:
    """Mark one message delivered, unless its claim was lost (then the new owner records it)."""
    with transaction.atomic():
        _async_commit()
        report.delivered += OutboxMessage.objects.filter(id=message.id, claim_token=token).update(
            status=OutboxStatus.DELIVERED,
            delivered_at=timezone.now(),
            lease_until=None,
            last_error="",
            last_status_code=200,
        )


def _retry_delay(message: OutboxMessage, error: DeliveryError) -> float:
    delay = backoff_seconds(message.attempts)
    if error.timed_out:
        # The receiver may still be working on the request we gave up on: not before it had the time again.
        delay = max(delay, system_timeout(message.system))
    return delay


def _record_failure(token, message: OutboxMessage, error: DeliveryError, report: DeliveryReport) -> None:
    """Schedule the retry, or make a dead letter (refused, or out of attempts: time-outs count too)."""
    now = timezone.now()
    dead = not error.retryable or message.attempts >= settings.MES_OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(id=message.id, claim_token=token).update(
            status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
            lease_until=None,
            next_attempt_at=now + timedelta(seconds=_retry_delay(message, error)),
            last_error=str(error)[:2000],
            last_status_code=error.status,
        )
        if not updated:
            return  # our claim was lost and another worker owns the message now
        if dead:
            report.dead += 1
            audit_record(
                action="integrations.outbox.dead_letter",
                obj=message,
                new={"attempts": message.attempts, "error": str(error)[:500]},
            )
        else:
            report.failed += 1
        report.errors.append(str(error)[:200])


def outbox_drain(*, system: str, budget_seconds: float = 20.0) -> DeliveryReport:
    """Deliver batches until nothing of `system` is due or the time budget is spent."""
    report = DeliveryReport()
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        batch = outbox_deliver_batch(system=system, deadline=deadline)
        report.add(batch)
        if batch.claimed and not batch.delivered:
            break  # the receiver accepts nothing now: leave the retries to the sweeper
        if not batch.claimed and not _wait_for_retry(system, deadline):
            break
    return report


def _wait_for_retry(system: str, deadline: float, horizon: float = 2.0) -> bool:
    """A retry of this system due within `horizon` seconds: wait for it rather than for the next
    sweep (a receiver that failed a few requests is still taking the rest)."""
    due = outbox_next_due(system)
    if due is None:
        return False
    wait = (due - timezone.now()).total_seconds()
    if wait > horizon or time.monotonic() + wait > deadline:
        return False
    time.sleep(max(0.0, wait))
    return True


def outbox_due_systems() -> list[str]:
    now = timezone.now()
    return sorted(set(OutboxMessage.objects.filter(_due(now)).values_list("system", flat=True).distinct()))


def outbox_sweep() -> list[str]:
    """Queue a dispatch for every system with due messages (the safety net behind on-commit queueing)."""
    systems = outbox_due_systems()
    for system in systems:
        outbox_dispatch_queue(system)
    return systems


def outbox_next_due(system: str):
    return OutboxMessage.objects.filter(system=system, status=OutboxStatus.PENDING).aggregate(t=Min("next_attempt_at"))[
        "t"
    ]


# --- administrators --------------------------------------------------------------------------
def outbox_replay(*, actor, message_id: int, reason: str = "") -> OutboxMessage:
    """Send a dead letter again (after the cause was fixed): attempts start over."""
    if not actor.has_perm(REPLAY_PERMISSION):
        raise PermissionDenied(_("You may not replay integration messages."))
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxStatus.DEAD:
            raise ValidationError(
                _("Only dead letters can be replayed; this message is %(status)s.")
                % {"status": message.get_status_display()}
            )
        old = {"status": message.status, "attempts": message.attempts}
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.replayed_count += 1
        message.save(update_fields=["status", "attempts", "next_attempt_at", "replayed_count"])
        audit_record(
            action="integrations.outbox.replay",
            actor=actor,
            obj=message,
            old=old,
            new={"status": message.status, "attempts": 0},
            reason=reason,
        )
        _dispatch_on_commit(message.system)
    return message

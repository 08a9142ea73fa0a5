"""The outbox: messages to external systems, written with the business change, delivered reliably.

- `outbox_enqueue` is called by a domain service inside its own transaction: the message exists
  if and only if the business change committed. One event (system, kind, key) is one message.
- Delivery claims a small batch of due messages with SELECT ... FOR UPDATE SKIP LOCKED: as many
  as the receiver has been answering in about half a second (one while its speed is unknown or it
  is slow, up to CLAIM_MAX when it answers in milliseconds). The claim marks them `sending` with a
  claim token and a lease sized from the system's time-out (the longest ONE request can take,
  plus a margin) and commits; then each message is sent and its result recorded at once. Before
  each send the worker checks that the lease still covers a whole request plus half the margin,
  and renews the lease of what it still holds when it does not (a committed UPDATE on the claim
  token; a message whose claim was lost is dropped, never sent). So a slow receiver never holds a
  batch of unrecorded results, a claim cannot expire while its request may still be in flight,
  and a worker that dies mid-send leaves one message in flight (and the few it claimed with it,
  unsent) whose lease expires; the one in flight is then claimed again with the same
  Idempotency-Key, so the receiver can tell it is a retry. Messages a worker claimed but will not
  send (deadline reached, receiver unreachable) are released at once.
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
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import audit_record
from integrations.adapters import adapter
from integrations.models import OutboxMessage, OutboxStatus, System
from integrations.transport import DeliveryError, HttpSession, NotConfigured, max_exchange_seconds, system_timeout
from mes.generated import GeneratedText

NOT_CONNECTED = GeneratedText(gettext_noop("%(system)s is not connected: %(why)s"))

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


# The Celery task that delivers a system's due messages (integrations.tasks.outbox_dispatch). The tasks
# module wraps this one, so it cannot be imported here: IntegrationsConfig.ready() registers it.
_DISPATCH_TASK: list = []


def outbox_dispatch_task_register(task) -> None:
    """Register the Celery task `task(system)` that `outbox_dispatch_queue` queues."""
    _DISPATCH_TASK[:] = [task]


def outbox_dispatch_queue(system: str, countdown: float | None = None) -> bool:
    """Ask a worker to deliver `system`'s due messages. If the broker is down, the messages
    simply wait: the sweeper queues them again once it is back."""
    if not _DISPATCH_TASK:
        logger.warning("no outbox dispatch task registered; the sweeper will queue %s", system)
        return False
    outbox_dispatch = _DISPATCH_TASK[0]
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


def lease_needed(system: str) -> float:
    """What a lease must still cover before a message may be sent: one whole request, plus half the
    margin (for recording its result). Less than that left, the sender renews first."""
    return max_exchange_seconds(system_timeout(system)) + settings.MES_OUTBOX_LEASE_MARGIN_SECONDS / 2


def outbox_claim(*, system: str, limit: int, expired: bool = True) -> tuple[uuid.UUID, list[OutboxMessage]]:
    """Claim up to `limit` due messages of `system` for this worker (never one another holds).

    The lease covers ONE request (`lease_seconds`), not the batch: the sender renews it before a
    send it would not cover (`_Claim`). Messages whose lease expired (a dead worker's) come first;
    `expired=False` skips looking for them (the delivery loop looks once per batch and whenever
    nothing is pending)."""
    now = timezone.now()
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=lease_seconds(system))
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


CLAIM_WINDOW_SECONDS = 0.5  # a claim holds about this long's worth of the receiver's answers ...
CLAIM_MAX = 50  # ... and never more than this many messages


@dataclass
class _Pace:
    """How fast the receiver answers (moving average of one exchange), to size the next claim: one
    message while unknown or slow (1 s and more per answer: a claim per message, as a lease should
    be), up to CLAIM_MAX when it answers in milliseconds (one claim's commit for many sends)."""

    seconds: float | None = None

    def observe(self, seconds: float) -> None:
        self.seconds = seconds if self.seconds is None else 0.7 * self.seconds + 0.3 * seconds

    def claim_size(self, left: int) -> int:
        if self.seconds is None:
            return 1
        return max(1, min(CLAIM_MAX, left, int(CLAIM_WINDOW_SECONDS / max(self.seconds, 1e-4))))


class _Claim:
    """Messages this worker holds under one claim token, sent one after the other. `lease_ends` is
    the monotonic time by which the lease in the database runs out at the earliest (measured from
    before the claim or renewal was written, so never later than the database's)."""

    def __init__(self, system: str, size: int, *, expired: bool):
        self.system = system
        began = time.monotonic()
        self.token, messages = outbox_claim(system=system, limit=size, expired=expired)
        self.messages = deque(messages)
        self.lease_ends = began + lease_seconds(system)

    def next_to_send(self) -> OutboxMessage | None:
        """The next message, with a lease that covers its whole request (renewed first if needed)."""
        if self.messages and time.monotonic() + lease_needed(self.system) > self.lease_ends:
            self._renew()
        return self.messages.popleft() if self.messages else None

    def _renew(self) -> None:
        """Extend the lease of the messages still held (committed before any further send). A
        message whose claim was lost (another worker took it after our lease ran out) is dropped."""
        began = time.monotonic()
        lease_until = timezone.now() + timedelta(seconds=lease_seconds(self.system))
        with transaction.atomic():
            held = OutboxMessage.objects.select_for_update().filter(
                id__in=[m.id for m in self.messages], claim_token=self.token, status=OutboxStatus.SENDING
            )
            ids = set(held.values_list("id", flat=True))
            OutboxMessage.objects.filter(id__in=ids).update(lease_until=lease_until)
        lost = [m for m in self.messages if m.id not in ids]
        if lost:
            logger.warning("outbox %s: claim lost on %d message(s), not sending them", self.system, len(lost))
        self.messages = deque(m for m in self.messages if m.id in ids)
        self.lease_ends = began + lease_seconds(self.system)

    def release(self) -> None:
        """Give back the messages claimed but not sent (this try did not happen)."""
        if not self.messages:
            return
        OutboxMessage.objects.filter(
            id__in=[m.id for m in self.messages], claim_token=self.token, status=OutboxStatus.SENDING
        ).update(status=OutboxStatus.PENDING, lease_until=None, claim_token=None, attempts=F("attempts") - 1)
        self.messages.clear()


def outbox_deliver_batch(
    *,
    system: str,
    limit: int | None = None,
    deadline: float | None = None,
    pace: _Pace | None = None,
    session: HttpSession | None = None,
) -> DeliveryReport:
    """Deliver up to `limit` of `system`'s due messages, each result recorded as soon as it is known.

    Claims as many at a time as `pace` says the receiver answers in about CLAIM_WINDOW_SECONDS.
    Stops early when nothing is due, the receiver cannot be reached (the rest would fail the same)
    or the `deadline` (time.monotonic()) has passed: a slow receiver does not keep one task for ever.
    What was claimed and not sent is released at once. `session`: the caller's open HTTP session
    (`outbox_drain` keeps one for all its batches: opening one costs tens of milliseconds)."""
    client = adapter(system).client
    report = DeliveryReport()
    try:
        session = nullcontext(session) if session is not None else client.session()
    except NotConfigured as exc:
        token, messages = outbox_claim(system=system, limit=1)
        report.claimed = len(messages)
        error = DeliveryError(NOT_CONNECTED % {"system": system.upper(), "why": exc})
        for message in messages:
            _record_failure(token, message, error, report)
        return report
    with session as open_session:
        limit = limit or settings.MES_OUTBOX_BATCH
        _deliver_claims(system, client, open_session, limit, deadline, pace or _Pace(), report)
    return report


def _deliver_claims(system: str, client, session, limit: int, deadline, pace: _Pace, report: DeliveryReport) -> None:
    claim: _Claim | None = None
    try:
        while report.claimed < limit and (deadline is None or time.monotonic() <= deadline):
            if claim is None or not claim.messages:
                size, first = pace.claim_size(limit - report.claimed), not report.claimed
                claim = _Claim(system, size, expired=first)
                if not claim.messages and not first:  # nothing pending: any expired lease?
                    claim = _Claim(system, size, expired=True)
                if not claim.messages:
                    break
            message = claim.next_to_send()
            if message is None:
                continue
            report.claimed += 1
            if not _send(client, session, claim.token, message, pace, report):
                break  # unreachable: the next message would fail the same way
    finally:
        if claim is not None:
            _release(claim)


def _release(claim: _Claim) -> None:
    try:
        claim.release()
    except Exception:  # noqa: BLE001 - e.g. the database went away: the leases expire instead
        logger.warning("outbox %s: could not release %d claimed message(s)", claim.system, len(claim.messages))


def _send(client, session, token, message: OutboxMessage, pace: _Pace, report: DeliveryReport) -> bool:
    """Send one message and record its result at once; False when the receiver cannot be reached."""
    started = time.monotonic()
    try:
        client.deliver(session, message)
    except DeliveryError as exc:
        pace.observe(time.monotonic() - started)
        _record_failure(token, message, exc, report)
        return exc.status is not None or exc.timed_out
    pace.observe(time.monotonic() - started)
    _record_delivered(token, message, report)
    return True


def _async_commit() -> None:
    """This transaction's commit need not wait for the disk. Only for recording a delivery or a
    retry: were the database to crash and lose it, the message's lease runs out and it is sent again
    with the same Idempotency-Key (the receiver recognises it); never for a claim or a lease renewal,
    whose loss could let a second worker send while the first is still sending, nor a dead letter."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # set_config(..., true) is SET LOCAL written as a SELECT: the write guard
            # (audit.refusals) wraps a SET in a savepoint, two round trips more per message.
            cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")


_RECORD_DELIVERED_SQL = """
UPDATE integrations_outboxmessage SET status = 'delivered', delivered_at = %s, lease_until = NULL,
       last_error = '', last_status_code = 200
 WHERE id = %s AND claim_token = %s AND set_config('synchronous_commit', 'off', true) = 'off'
"""


def _record_delivered(token, message: OutboxMessage, report: DeliveryReport) -> None:
    """Mark one message delivered, unless its claim was lost (then the new owner records it)."""
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # One statement, one round trip: its own transaction, committed without waiting for the
        # disk (see _async_commit; the set_config in the WHERE clause is evaluated for the row it
        # updates, before the statement's implicit commit).
        with connection.cursor() as cursor:
            cursor.execute(_RECORD_DELIVERED_SQL, [timezone.now(), message.id, token])
            report.delivered += cursor.rowcount
        return
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
        if not dead:
            _async_commit()  # a lost retry record only means the lease expires and it is sent again
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
    try:
        session = adapter(system).client.session()
    except NotConfigured:
        report.add(outbox_deliver_batch(system=system))  # records why on the next message
        return report
    pace = _Pace()
    with session:
        while time.monotonic() < deadline:
            batch = outbox_deliver_batch(system=system, deadline=deadline, pace=pace, session=session)
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

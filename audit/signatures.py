"""Electronic signatures (21 CFR 11.50, 11.70, 11.200).

A signature is made in two steps so that a wrong password is recorded even though the business
change is refused: `signature_check_password` runs before the service opens its transaction (a
failure is audited and counts toward lock-out), then `signature_create` runs inside the service's
transaction, next to the change it signs.

21 CFR 11.200(a): the first signing in a session uses every component (user ID and password); later
signings in the same continuous session use the password. When a web request is being served, the
user ID comes from the signature dialog's `signature_username` field (templates/includes/
signature_fields.html shows it while it is needed), so existing callers need no change; a service
may also pass `username=` itself. The session remembers the first complete signing until log-out or
idle time-out. Configuration parameter auth.signature_full_first (default MES_SIGNATURE_FULL_FIRST).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import hashers
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import current_request
from audit.models import Signature, SignatureMeaning
from audit.services import audit_record, object_label
from audit.text_safety import clean_free_text


class SignatureError(Exception):
    """The signature could not be made (wrong password, locked account, missing meaning)."""


def printed_name(user) -> str:
    return user.get_full_name().strip() or user.get_username()


# Account states the audit package does not own that forbid signing (for example a password set by
# an administrator and not yet replaced by its owner): each check returns the refusal text or None.
# Apps register theirs in AppConfig.ready(); the foundation imports no app.
_SIGNING_REFUSALS: list[Callable[[object], str | None]] = []


def signing_refusal_register(check: Callable[[object], str | None]) -> None:
    """Register a check that may refuse any signature (and so any approval) by an account."""
    if check not in _SIGNING_REFUSALS:
        _SIGNING_REFUSALS.append(check)


def signing_refusal(user) -> str | None:
    """The first registered reason this account may not sign now, or None."""
    for check in _SIGNING_REFUSALS:
        message = check(user)
        if message:
            return str(message)
    return None


@dataclass(frozen=True)
class AccountGuard:
    """Lock-out after repeated failed log-ins or signatures (21 CFR 11.300(d)) and the 11.200(a)
    signing policy: the security service (`mes.security`, above the audit package) registers them at
    `AppConfig.ready()`; without one no signature is made (fail closed)."""

    is_locked: Callable[[object], bool]  # (user)
    register_failure: Callable[..., bool]  # (*, username, kind) -> locked now
    register_success: Callable[..., None]  # (*, user, kind)
    signature_full_first: Callable[[], bool]  # the first signing of a session needs the user ID too


_GUARD: list[AccountGuard] = []


def account_guard_register(guard: AccountGuard) -> None:
    """Register the account guard (one; a later registration replaces it)."""
    _GUARD[:] = [guard]


def account_guard() -> AccountGuard:
    if not _GUARD:
        raise ImproperlyConfigured("no account guard is registered (mes.security registers it at ready())")
    return _GUARD[0]


SESSION_KEY = "mes_signing_session"
USERNAME_FIELD = "signature_username"


def signature_needs_user_id(request) -> bool:
    """True while the session has not yet had a complete (user ID + password) signing."""
    session = getattr(request, "session", None)
    if session is None or not account_guard().signature_full_first():
        return False
    return not session.get(SESSION_KEY)


def _session_owner(request, user) -> bool:
    """Whether `user` is the person signed in to this request (not a second person signing on it)."""
    owner = getattr(request, "user", None)
    return owner is not None and getattr(owner, "pk", None) == user.pk


def _request_username(user, username: str | None) -> tuple[object | None, str | None, bool]:
    """(request of the signed-in owner, the user ID given for this signing, whether it is required).

    A second person signing on someone else's screen (a verifier) is not the session's owner: the
    session's first-signing state says nothing about them, and the caller names them itself.
    """

    info = current_request()
    request = info.request if info is not None else None
    if request is not None and not _session_owner(request, user):
        return None, username, False
    required = request is not None and signature_needs_user_id(request)
    if username is None and request is not None and getattr(request, "method", "") == "POST":
        username = request.POST.get(USERNAME_FIELD)
    return request, username, required


def signature_check_password(*, user, password: str, purpose: str = "", username: str | None = None) -> None:
    """Re-authenticate the signer. A wrong password (or user ID) is audited and counts toward lock-out."""

    if user is None or not user.is_authenticated or not user.is_active:
        raise SignatureError(_("Only an active, signed-in user can sign."))
    guard = account_guard()
    if guard.is_locked(user):
        raise SignatureError(_("Your account is locked. Ask an administrator to unlock it."))
    refusal = signing_refusal(user)
    if refusal:
        with transaction.atomic():
            audit_record(
                action="signature.refused",
                actor=user,
                reason=purpose,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=user.get_username(),
                new={"refusal": refusal},
            )
        raise SignatureError(refusal)
    request, username, required = _request_username(user, username)
    if required and not (username or "").strip():
        raise SignatureError(_("Enter your user ID and password: the first signature of a session needs both."))
    wrong_id = username is not None and username.strip() != user.get_username()
    # hashers.check_password, not user.check_password: the user's method re-hashes a password stored with
    # older parameters and saves it, which changes the session's auth hash and so signs the person out of
    # every session (theirs, or the verifier's at another tablet) on the next request. Hashes are upgraded
    # at log-in instead (Django's ModelBackend), where the new hash goes into the new session.
    if wrong_id or not password or not hashers.check_password(password, user.password):
        with transaction.atomic():
            audit_record(
                action="signature.failed",
                actor=user,
                reason=purpose,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=user.get_username(),
            )
        guard.register_failure(username=user.get_username(), kind="signature")
        if wrong_id:
            raise SignatureError(_("The user ID or password is not correct. Nothing was signed."))
        raise SignatureError(_("The password is not correct. Nothing was signed."))
    guard.register_success(user=user, kind="signature")
    session = getattr(request, "session", None) if request is not None else None
    if session is not None and not session.get(SESSION_KEY):  # set once: a session written anew costs a save
        session[SESSION_KEY] = True


def _bound_hash(obj, meaning: str) -> str:
    """The hash a signature of `meaning` binds. A GMP record may bind less for one meaning (GMPModel.
    content_hash_for); any other signed object (a role assignment, say) offers its content_hash alone."""
    bound = getattr(obj, "content_hash_for", None)
    return bound(meaning) if bound is not None else obj.content_hash()


def signature_create(*, signer, obj: models.Model, meaning: str, reason: str = "", action: str = "") -> Signature:
    """Record a signature bound to the current content of `obj` (inside the caller's transaction)."""
    if meaning not in SignatureMeaning.values:
        raise SignatureError(_("Unknown signature meaning."))
    clean_free_text(reason)  # no invisible direction controls in a signed reason
    content_hash = _bound_hash(obj, meaning)
    now = timezone.now()
    name = printed_name(signer)
    signature = Signature(
        signer=signer,
        printed_name=name,
        username=signer.get_username(),
        meaning=meaning,
        reason=reason,
        signed_at=now,
        object_type=object_label(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        action=action,
        content_hash=content_hash,
    )
    # savepoint=False (as audit_record): no extra round trips; a failure here fails the caller's whole
    # action (a signed record without its signature is never committed).
    with transaction.atomic(savepoint=False):
        row = PendingSignature(signature) if PendingSignature.applies() else None
        event = audit_record(
            action="signature.sign",
            actor=signer,
            obj=obj,
            reason=reason,
            # What the signature row says, so the verifier can hold every row to its chained event.
            new={
                "meaning": meaning,
                "content_hash": content_hash,
                "for_action": action,
                "printed_name": name,
                "signed_at": now,
            },  # fmt: skip
            then=row,
        )
        signature.audit_event = event
        if row is None:  # a listener to its save signals: the model's own save, after the event
            signature.save(force_insert=True)
    return signature


class PendingSignature:
    """The signature row, inserted in the statement that appends its event (audit.services `then`):
    the INSERT Django would run for `signature.save()`, compiled once per process, its values
    prepared per row as Django prepares them. Used only where nothing listens to a signature's
    save signals (their receivers would be skipped)."""

    _compiled: tuple[str, list] | None = None

    def __init__(self, signature: Signature):
        self.signature = signature
        sql, fields = self._statement()
        self.sql = sql
        self.params = [f.get_db_prep_save(f.pre_save(signature, True), connection=connection) for f in fields]

    @staticmethod
    def applies() -> bool:
        return not (pre_save.has_listeners(Signature) or post_save.has_listeners(Signature))

    @classmethod
    def _statement(cls) -> tuple[str, list]:
        """`INSERT ... VALUES (%s, ..., {event}) RETURNING id`: every column but the key, the event's id
        last, written by the caller's statement."""
        if cls._compiled is None:
            meta, quote = Signature._meta, connection.ops.quote_name
            event = meta.get_field("audit_event")
            fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and f is not event]
            columns = ", ".join(quote(f.column) for f in [*fields, event])
            marks = ", ".join(["%s"] * len(fields) + ["{event}"])
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {quote(meta.pk.column)}"
            cls._compiled = (sql, fields)
        return cls._compiled

    def written(self, row_id: int, event_id: int) -> None:
        """Stored by the event's statement: the instance is the saved row."""
        self.signature.pk, self.signature.audit_event_id = row_id, event_id
        self.signature._state.adding, self.signature._state.db = False, DEFAULT_DB_ALIAS

    def write(self, event_id: int) -> None:
        """Where the event is written plainly (SQLite): the model's own save, after it."""
        self.signature.audit_event_id = event_id
        self.signature.save(force_insert=True)


def signature_sign(
    *, user, password: str, obj: models.Model, meaning: str, reason: str = "", action: str = ""
) -> Signature:
    """Check the password, then sign `obj` in a transaction of its own (for a stand-alone signature)."""
    signature_check_password(user=user, password=password, purpose=action or meaning)
    with transaction.atomic():
        return signature_create(signer=user, obj=obj, meaning=meaning, reason=reason, action=action)


def signatures_for(obj: models.Model) -> list[Signature]:
    """The record's signatures. Each row holds its printed name, meaning and time (what is shown), so
    the signer's account is not joined."""
    return list(signatures_of_record(object_label(obj), str(obj.pk)))


def signatures_of_record(label: str, object_id: str) -> models.QuerySet[Signature]:
    """The signatures of the record `label` (an object label) / `object_id`, in their order."""
    return Signature.objects.filter(object_type=label, object_id=object_id)


def signature_is_valid(signature: Signature, obj: models.Model) -> bool:
    """A signature stays valid only while the record's signed content is unchanged."""
    accepted = getattr(obj, "signed_content_hashes", None)
    if accepted is None:  # not a GMP record (a role assignment): its content as it is now
        return signature.content_hash == obj.content_hash()
    return signature.content_hash in accepted(signature.meaning)

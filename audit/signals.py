"""Audit events for authentication, users, roles and permission grants (AUD-1, SEC-4)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from audit.services import audit_record
from audit.signatures import account_guard

User = get_user_model()
_USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")


def _user_ref(user) -> dict:
    return {"object_type": "auth.user", "object_id": str(user.pk), "object_repr": user.get_username()}


@receiver(user_logged_in, dispatch_uid="audit.login")
def _on_login(sender, request, user, **kwargs):
    account_guard().register_success(user=user, kind="login")
    with transaction.atomic():
        audit_record(action="auth.login", actor=user, **_user_ref(user))


@receiver(user_logged_out, dispatch_uid="audit.logout")
def _on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    reason = getattr(request, "mes_logout_reason", "") if request is not None else ""
    with transaction.atomic():
        audit_record(action="auth.logout", actor=user, reason=reason, **_user_ref(user))


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit_record(
            action="auth.login_failed",
            actor=None,
            username=username or "?",
            object_type="auth.user",
            object_repr=username,
        )
    account_guard().register_failure(username=username, kind="login")


@receiver(pre_save, sender=User, dispatch_uid="audit.user_pre")
def _user_before(sender, instance, **kwargs):
    if instance.pk:
        old = sender.objects.filter(pk=instance.pk).values(*_USER_FIELDS, "password").first()
        instance._audit_old = old or {}


@receiver(post_save, sender=User, dispatch_uid="audit.user_post")
def _user_after(sender, instance, created, **kwargs):
    new = {f: getattr(instance, f) for f in _USER_FIELDS}
    if created:
        audit_record(action="auth.user.create", obj=instance, new=new)
        return
    old = getattr(instance, "_audit_old", {})
    changed = {f for f in _USER_FIELDS if old.get(f) != new[f]}
    if changed:
        audit_record(
            action="auth.user.update",
            obj=instance,
            old={f: old.get(f) for f in changed},
            new={f: new[f] for f in changed},
        )
    if old and old.get("password") != instance.password:
        audit_record(action="auth.user.password_change", obj=instance)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit.user_groups")
def _groups_changed(sender, instance, action, pk_set, reverse, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    if reverse:  # group.user_set changed
        audit_record(action=f"auth.group.members_{action[5:]}", obj=instance, new={"user_ids": sorted(pk_set or ())})
    else:
        audit_record(action=f"auth.user.roles_{action[5:]}", obj=instance, new={"roles": names})


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="audit.group_perms")
def _group_perms_changed(sender, instance, action, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return

    perms = Permission.objects.filter(pk__in=pk_set or ()).select_related("content_type")
    names = sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms)
    audit_record(action=f"auth.group.permissions_{action[5:]}", obj=instance, new={"permissions": names})


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="audit.user_perms")
def _user_perms_changed(sender, instance, action, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        audit_record(
            action=f"auth.user.permissions_{action[5:]}", obj=instance, new={"permission_ids": sorted(pk_set or ())}
        )


@receiver(post_save, sender=UserObjectPermission, dispatch_uid="audit.uop_add")
@receiver(post_save, sender=GroupObjectPermission, dispatch_uid="audit.gop_add")
def _object_perm_granted(sender, instance, created, **kwargs):
    audit_record(action="auth.object_permission.grant", **_object_perm_fields(instance))


@receiver(post_delete, sender=UserObjectPermission, dispatch_uid="audit.uop_del")
@receiver(post_delete, sender=GroupObjectPermission, dispatch_uid="audit.gop_del")
def _object_perm_revoked(sender, instance, **kwargs):
    audit_record(action="auth.object_permission.revoke", **_object_perm_fields(instance))


def _object_perm_fields(instance) -> dict:
    holder = getattr(instance, "user", None) or getattr(instance, "group", None)
    return {
        "object_type": f"{instance.content_type.app_label}.{instance.content_type.model}",
        "object_id": str(instance.object_pk),
        "new": {"permission": instance.permission.codename, "holder": str(holder)},
    }

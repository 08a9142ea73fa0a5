from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router
from guardian.backends import ObjectPermissionBackend as GuardianBackend
from guardian.backends import check_support

from mes import permcache
from mes.models import UserSecurity
from mes.security import security_is_locked


class LockoutAwareBackend(ModelBackend):
    """The model backend, refusing accounts that are locked after repeated failures. Role permissions
    come from the per-user cache (mes.permcache)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not security_is_locked(user)

    def get_user(self, user_id):
        """The session's user, or None when unknown, inactive or locked: as ModelBackend.get_user with
        user_can_authenticate, in one plain query (every request asks it; the ORM's two queries cost
        more CPU to build than to run)."""
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        alias = router.db_for_read(model)
        quote = connections[alias].ops.quote_name
        key = quote(model._meta.pk.column)
        sql = (
            f"SELECT u.*, EXISTS (SELECT 1 FROM {quote(UserSecurity._meta.db_table)} s"
            f" WHERE s.user_id = u.{key} AND s.locked_at IS NOT NULL) AS mes_locked,"
            f" EXISTS (SELECT 1 FROM {quote(UserSecurity._meta.db_table)} s"
            f" WHERE s.user_id = u.{key} AND s.failed_attempts <> 0) AS mes_failing"
            f" FROM {quote(model._meta.db_table)} u WHERE u.{key} = %s"
        )
        # A raw query set: the fields' database converters apply as with .get() (SQLite's dates too).
        found = list(model._default_manager.db_manager(alias).raw(sql, [pk]))
        if not found:
            return None
        user = found[0]
        if user.__dict__.pop("mes_locked"):
            return None
        # No failed attempt to forget when the request began: its signatures need not reset the count.
        user.mes_failing = bool(user.__dict__.pop("mes_failing"))
        return user if ModelBackend.user_can_authenticate(self, user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return permcache.role_permissions(user_obj, lambda: self._read_all_permissions(user_obj))

    def _read_all_permissions(self, user_obj) -> set[str]:
        for attr in ("_user_perm_cache", "_group_perm_cache"):  # Django's own per-object caches: read anew
            user_obj.__dict__.pop(attr, None)
        return {*self.get_user_permissions(user_obj), *self.get_group_permissions(user_obj)}


class ObjectPermissionBackend(GuardianBackend):
    """django-guardian's object permissions, answered from a map loaded once per request
    (mes.permcache.object_permissions) instead of two queries per check."""

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        support, user_obj = check_support(user_obj, obj)
        if not support or not user_obj.is_active:
            return False
        if user_obj.is_superuser:  # as guardian: a superuser holds every permission of the record
            return super().has_perm(user_obj, perm, obj)
        if "." in perm and perm.split(".", 1)[0] != obj._meta.app_label:
            return super().has_perm(user_obj, perm, obj)  # guardian's own check and error for this case
        return perm.rsplit(".", 1)[-1] in permcache.object_permissions(user_obj, obj)

from django.contrib.auth.backends import ModelBackend
from guardian.backends import ObjectPermissionBackend as GuardianBackend
from guardian.backends import check_support

from mes import permcache
from mes.security import security_is_locked


class LockoutAwareBackend(ModelBackend):
    """The model backend, refusing accounts that are locked after repeated failures. Role permissions
    come from the per-user cache (mes.permcache)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not security_is_locked(user)

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

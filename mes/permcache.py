"""Permission answers without a query per check: one place for both permission caches.

A page asks `user.has_perm` dozens of times (navigation, work cards, the actions a record offers). The
answers come from two caches, both kept here:

- **Role permissions, per user, across requests.** The set a user holds through their groups and own
  grants is kept in the shared cache (Redis) under the user's id and a *generation*. Every change that
  can alter any user's permissions (group membership, a group's or a user's permissions, a group or a
  permission deleted, a user saved: active, superuser) bumps the generation, at once and again when
  the changing transaction commits, so the next request of every user reads the database again. A
  permission revoked mid-session is honoured on the user's next request. Without a shared cache
  (LocMem: one process per cache) the set is kept for the request only.
- **Object permissions (django-guardian), per request.** The first object check of a request loads
  all of the user's object grants for that kind of record (their own and their groups', one query)
  onto the request's user object; later checks of the request read that map. A grant or revocation
  in the same process (a service, a test) bumps a process-local generation that drops the map.

Changes made outside the ORM (raw SQL on the permission tables) are not seen until the cache entry
expires (PERMISSION_CACHE_SECONDS); the application never makes them.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.functional import LazyObject, empty
from guardian.ctypes import get_content_type
from guardian.models import GroupObjectPermission, UserObjectPermission

from audit.prepared import prepared_cursor

log = logging.getLogger(__name__)

GENERATION_KEY = "mes:perm:gen"
PERMISSION_CACHE_SECONDS = 300

_local_generation = itertools.count(1)
_local = {"gen": 0}


def shared_cache() -> bool:
    """The cross-request cache needs one cache for every process (Redis); LocMem is per process."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "locmem" not in backend.lower() and "dummy" not in backend.lower()


def _user_key(user_id: int) -> str:
    return f"mes:perm:user:{user_id}"


def local_generation() -> int:
    """This process's permission generation: answers kept on a user object are valid while it holds."""
    return _local["gen"]


def role_permissions(user, compute) -> frozenset[str]:
    """The user's role (model-level) permissions: `compute()` (the database) once per generation."""
    return _entry(user, compute)[0]


def holds(user, perm: str) -> bool:
    """`user.has_perm(perm)` without a record, from the user's role permissions read once per request.

    A page asks this dozens of times (the menu, the work cards); Django's `has_perm` walks every
    authentication backend on each call. The answer is the same: an inactive user holds nothing, an
    active superuser everything, anyone else what the model backend grants (the object backend grants
    nothing without a record).

    The request's user is a lazy object whose every attribute read goes through its proxy (three
    Python calls); the checks read the user it wraps, the same object (an attribute kept is kept on it)."""
    return perm in held_permissions(user)


class _Every:
    """An active superuser's permissions: every one."""

    def __contains__(self, perm: object) -> bool:
        return True


EVERY = _Every()


def held_permissions(user) -> frozenset[str] | _Every:
    """What `holds` answers from, for asking many permissions at once (the menu asks one per entry):
    none for an inactive user, every one for an active superuser, else the role permissions."""
    user = _unwrapped(user)
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return EVERY
    kept = getattr(user, "_mes_all_perms", None)
    if kept is None or kept[0] != _local["gen"]:
        kept = user._mes_all_perms = (_local["gen"], frozenset(user.get_all_permissions()))
    return kept[1]


def _unwrapped(user):
    """The user a lazy `request.user` stands for (set up if not yet), else `user` itself."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def role_codes(user) -> list[str]:
    """The user's role codes (group names), kept with their permissions."""
    return list(_entry(user, None)[1])


def _entry(user, compute) -> tuple[frozenset, tuple[str, ...]]:
    """(permissions, roles) of the user: on the request's user object, else from the shared cache when
    its generation is current, else read from the database and stored for the next request."""
    kept = getattr(user, "_mes_perm_entry", None)  # through a lazy request.user too
    local = kept[1] if kept is not None and kept[0] == _local["gen"] else None  # no change in this process since
    if local is not None and (compute is None or local[0] is not None):
        return local
    entry = _shared_entry(user) if shared_cache() else None
    if entry is None:
        entry = _read_entry(user, compute, local)
        if entry[0] is not None and shared_cache():
            _store(user, entry)
    user._mes_perm_entry = (_local["gen"], entry)
    return entry


def _read_entry(user, compute, entry) -> tuple:
    roles = entry[1] if entry is not None else tuple(sorted(g.name for g in user.groups.all()))
    return (frozenset(compute()) if compute is not None else None, roles)


def _shared_entry(user) -> tuple | None:
    try:
        found = cache.get_many([GENERATION_KEY, _user_key(user.pk)])
    except Exception:  # noqa: BLE001 - the cache is an optimisation: without it, ask the database
        log.warning("permission cache unreachable; reading permissions from the database", exc_info=True)
        return None
    generation, stored = found.get(GENERATION_KEY), found.get(_user_key(user.pk))
    user._mes_perm_generation = generation
    if generation is not None and stored is not None and stored[0] == generation:
        return stored[1], stored[2]
    return None


def _store(user, entry) -> None:
    generation = getattr(user, "_mes_perm_generation", None) or _new_generation()
    try:
        cache.set(_user_key(user.pk), (generation, *entry), PERMISSION_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("permission cache unreachable; permissions not cached", exc_info=True)


def _new_generation() -> str:
    generation = uuid.uuid4().hex
    try:
        cache.set(GENERATION_KEY, generation, None)
    except Exception:  # noqa: BLE001 - nothing cached can be read without it either
        log.warning("permission cache unreachable; generation not bumped", exc_info=True)
    return generation


def permissions_changed(**_kwargs: Any) -> None:
    """Every cached permission answer is stale: bump both generations now and when the transaction
    commits (a request between the two would otherwise cache the not-yet-committed old state)."""
    _local["gen"] = next(_local_generation)
    if not shared_cache():
        return
    _new_generation()
    transaction.on_commit(_new_generation)


def object_permissions(user, obj) -> list[str]:
    """Codenames the user holds on `obj` through django-guardian grants (their own and their groups'),
    from a map loaded once per request and kind of record."""
    return _object_map(user, obj).get(str(obj.pk), [])


def granted_pks(user, model, codename: str) -> list[str]:
    """Primary keys (as text) of the records of `model` on which the user holds `codename` through an
    object grant (their own or their groups'), from the same per-request map."""
    return [pk for pk, codenames in _object_map(user, model).items() if codename in codenames]


def _object_map(user, obj_or_model) -> dict[str, list[str]]:
    ctype = get_content_type(obj_or_model)
    maps = getattr(user, "_mes_obj_perms", None)
    if maps is None or maps[0] != _local["gen"]:
        maps = user._mes_obj_perms = (_local["gen"], {})
    by_pk = maps[1].get(ctype.pk)
    if by_pk is None:
        by_pk = maps[1][ctype.pk] = _load_object_permissions(user, ctype)
    return by_pk


def _load_object_permissions(user, ctype) -> dict[str, list[str]]:
    """All the user's object grants on one content type, theirs and their groups', in one query.

    Plain SQL: the ORM's union of two joined querysets cost more CPU to build than the page's own
    queries (it runs on every operator request)."""
    memberships = get_user_model().groups.through._meta.db_table
    perm, own, grp = (
        Permission._meta.db_table,
        UserObjectPermission._meta.db_table,
        GroupObjectPermission._meta.db_table,
    )
    sql = (
        f"SELECT o.object_pk, p.codename FROM {own} o JOIN {perm} p ON p.id = o.permission_id"
        " WHERE o.user_id = %s AND o.content_type_id = %s"
        f" UNION SELECT g.object_pk, p.codename FROM {grp} g JOIN {perm} p ON p.id = g.permission_id"
        f" JOIN {memberships} m ON m.group_id = g.group_id WHERE m.user_id = %s AND g.content_type_id = %s"
    )
    found: dict[str, list[str]] = {}
    with prepared_cursor() as cursor:  # asked on most requests: planned once per connection
        cursor.execute(sql, [user.pk, ctype.pk, user.pk, ctype.pk])
        for pk, codename in cursor.fetchall():
            found.setdefault(str(pk), []).append(codename)
    return found


def connect_signals() -> None:
    """Every ORM change that can alter a permission answer bumps the generations (mes.apps.ready)."""

    user_model = get_user_model()
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"mes-perm-m2m-{through._meta.label}")
    for model in (Group, Permission, user_model, UserObjectPermission, GroupObjectPermission):
        post_save.connect(_saved, sender=model, dispatch_uid=f"mes-perm-save-{model._meta.label}")
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"mes-perm-del-{model._meta.label}")


def _m2m_changed(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        permissions_changed()


def _saved(sender, instance, created: bool, update_fields=None, **kwargs: Any) -> None:
    """A user's log-in stamp (last_login) or password does not change what they may do; anything else might."""
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return
    if created and sender._meta.model_name not in ("userobjectpermission", "groupobjectpermission"):
        return  # a new user, group or permission holds nothing yet: its grants come as m2m changes
    permissions_changed()

"""Small registries each app fills from its own module, so apps never edit a shared list.

- `<app>/nav.py` defines NAV = [NavItem(...)]: the navigation entries, each shown only to users
  holding its permission. An entry may also be a dict of NavItem's fields (the audit package, below
  mes, declares its entries so); the same holds for an access Rule.
- `<app>/permissions.py` defines ROLE_PERMISSIONS = {"role": ["app.codename", ...]}.
- `<app>/access.py` defines ACCESS = {"url-name": Rule(...)}: the declared access rule of every
  URL, which the access-matrix test walks for every role.
- `<app>/seed.py` defines `seed(stdout)`: demo data for `manage.py seed_demo`; SEED_ORDER (an int)
  says when it runs relative to other apps.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from mes import permcache


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    permission: str | None = None
    section: Any = ""
    icon: str = "•"
    order: int = 100


@dataclass(frozen=True)
class Rule:
    """Who may open a URL: roles that get 200 (others get 403; anonymous users go to log-in)."""

    roles: frozenset = field(default_factory=frozenset)
    kwargs: dict = field(default_factory=dict)
    public: bool = False
    method: str = "get"
    # For URLs that need objects: a callable returning kwargs, given the seeded test data.
    make_kwargs: Any = None


def _as(kind, entry):
    """A registry entry as `kind`: given as one, or as a dict of its fields."""
    return kind(**entry) if isinstance(entry, dict) else entry


def _app_modules(module_name: str):
    return _app_modules_found(module_name)


@functools.cache
def _app_modules_found(module_name: str) -> tuple:
    """The apps' `<app>.<module_name>` modules, looked up once per process (every page asks: the
    navigation, the work cards), not by an import attempt per app on each request."""
    found = []
    for config in apps.get_app_configs():
        try:
            found.append((config, importlib.import_module(f"{config.name}.{module_name}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise
    return tuple(found)


def nav_items() -> list[NavItem]:
    return list(_nav_items())


def nav_items_for(user) -> list[NavItem]:
    """The navigation entries the user may use (the menu and the home page's shortcuts ask alike).

    Kept on the user object as its permission answers are (mes.permcache.holds): the home page asks
    twice per request."""
    generation = permcache.local_generation()
    kept = getattr(user, "_mes_nav_items", None)
    if kept is None or kept[0] != generation:
        held = permcache.held_permissions(user)
        items = [i for i in _nav_items() if i.permission is None or i.permission in held]
        kept = user._mes_nav_items = (generation, items)
    return list(kept[1])


@functools.cache
def _nav_items() -> tuple[NavItem, ...]:
    items = [_as(NavItem, item) for _, mod in _app_modules("nav") for item in getattr(mod, "NAV", [])]
    return tuple(sorted(items, key=lambda i: i.order))


def role_permissions() -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for _, mod in _app_modules("permissions"):
        for role, perms in getattr(mod, "ROLE_PERMISSIONS", {}).items():
            merged.setdefault(role, set()).update(perms)
    return merged


def access_rules() -> dict[str, Rule]:
    merged: dict[str, Rule] = {}
    for _, mod in _app_modules("access"):
        merged.update({name: _as(Rule, rule) for name, rule in getattr(mod, "ACCESS", {}).items()})
    return merged


def seeders() -> list[tuple[int, str, Any]]:
    found = [(getattr(mod, "SEED_ORDER", 100), config.name, mod.seed) for config, mod in _app_modules("seed")]
    return sorted(found, key=lambda s: (s[0], s[1]))

"""Demo users, one per role (and a second operator), for `manage.py seed_demo`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS
from mes.models import Area, Line, Site

SEED_ORDER = 0
__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "seed", "demo_user"]


def demo_user(username: str):
    return get_user_model().objects.get(username=username)


def seed(stdout) -> None:
    User = get_user_model()
    for username, (first, last, role) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@plant.example",
                "is_staff": role == "admin",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=role))
    seed_plant()
    stdout.write(f"  users: {len(DEMO_USERS)} demo users (password {DEMO_PASSWORD}); plant SH01 with 3 lines")


def seed_plant() -> None:
    """The demo plant: one site, two areas, three lines."""
    site, _ = Site.objects.get_or_create(
        code="SH01", defaults={"name": "Shanghai Oral Solids Plant", "name_zh": "上海口服固体制剂厂"}
    )
    areas = {
        "OSD": ("Oral solid dose", "口服固体制剂车间"),
        "PKG": ("Packaging", "包装车间"),
    }
    for code, (name, name_zh) in areas.items():
        Area.objects.get_or_create(code=code, defaults={"site": site, "name": name, "name_zh": name_zh})
    lines = {
        "L1": ("OSD", "Granulation and compression line 1", "制粒压片一线"),
        "L2": ("OSD", "Granulation and compression line 2", "制粒压片二线"),
        "P1": ("PKG", "Blister packaging line 1", "泡罩包装一线"),
    }
    for code, (area, name, name_zh) in lines.items():
        Line.objects.get_or_create(
            code=code, defaults={"area": Area.objects.get(code=area), "name": name, "name_zh": name_zh}
        )

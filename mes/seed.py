"""Demo users, one per role (and a second operator), for `manage.py seed_demo`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

SEED_ORDER = 0
DEMO_PASSWORD = "Pharma-MES-2026!"

# username: (first name, last name, role)
DEMO_USERS = {
    "planner": ("Fang", "Wang", "planner"),
    "supervisor": ("Wei", "Zhang", "supervisor"),
    "operator": ("Qiang", "Li", "operator"),
    "operator2": ("Jing", "Chen", "operator"),
    "qc": ("Yang", "Liu", "qc"),
    "qa": ("Min", "Zhao", "qa"),
    "maintenance": ("Hao", "Sun", "maintenance"),
    "warehouse": ("Jie", "Zhou", "warehouse"),
    "analyst": ("Lei", "Wu", "analyst"),
    "auditor": ("Li", "Xu", "auditor"),
    "admin": ("Jun", "Ma", "admin"),
}


def demo_user(username: str):
    return get_user_model().objects.get(username=username)


def seed(stdout) -> None:
    User = get_user_model()
    for username, (first, last, role) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@plant.example",
                                         "is_staff": role == "admin"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=role))
    stdout.write(f"  users: {len(DEMO_USERS)} demo users (password {DEMO_PASSWORD})")

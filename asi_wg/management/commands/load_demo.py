"""``python manage.py load_demo``: the demo tenants, groups and accounts. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from groups import demo as groups_demo
from membership import demo as membership_demo


class Command(BaseCommand):
    help = (
        "Load the demo tenants 'asi' and 'demo' with their groups and demo accounts (idempotent)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        organisations = groups_demo.load()
        users = membership_demo.load(organisations)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {', '.join(sorted(organisations))}; "
                f"{len(users)} accounts with password {membership_demo.DEMO_PASSWORD}."
            )
        )

"""``python manage.py load_demo``: the demo tenants, groups and accounts. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from asi_wg.demo import DEMO_PASSWORD, load_all


class Command(BaseCommand):
    help = (
        "Load the demo tenants 'asi' and 'demo' with their groups and demo accounts (idempotent)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = load_all()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {', '.join(sorted(demo.organisations))}; "
                f"{len(demo.users)} accounts with password {DEMO_PASSWORD}."
            )
        )

"""``python manage.py load_demo``: the demo tenants, groups and accounts. Safe to run again.

``--scale N`` then adds N synthetic tenants (``scale-01`` …) for the benchmark; see
``feedback.demo_scale``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from asi_wg.caching import tenant_caches_clear
from asi_wg.demo import DEMO_PASSWORD, load_all, load_scale


class Command(BaseCommand):
    help = (
        "Load the demo tenants 'asi' and 'demo' with their groups and demo accounts (idempotent); "
        "--scale N adds N synthetic tenants scale-01 … for the benchmark."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Also make the synthetic tenants scale-01 … scale-N that are missing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] < 0:
            raise CommandError("--scale takes the number of synthetic tenants, 0 or more.")
        demo = load_all()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {', '.join(sorted(demo.organisations))}; "
                f"{len(demo.users)} accounts with password {DEMO_PASSWORD}."
            )
        )
        count = options["scale"]
        if count > 0:
            started = time.monotonic()
            made = load_scale(count)
            if made and connection.vendor == "postgresql":
                # Bulk inserts leave the planner without statistics until autovacuum comes round:
                # without them it picks sequential scans and nested loops (47 ms for a 1 ms query).
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Scale data ready: {count} synthetic tenants, {len(made)} made now "
                    f"in {time.monotonic() - started:.1f} s."
                )
            )
        # Bulk inserts send no signals: the tenants' cached rows and pages are forgotten here.
        tenant_caches_clear()

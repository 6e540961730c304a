"""``python manage.py page_cache_stats``: how often each tenant's signed-in pages came from the
person's page cache (``asi_wg.pagecache``), since the counters were last reset.

Each process adds its counts every ``TALLY_EVERY`` requests or, at its next request, after
``TALLY_SECONDS``: the latest few may not be in yet.
``--reset`` sets the counters to zero after printing them."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandParser

from asi_wg.models import Organisation
from asi_wg.pagecache import OUTCOMES, tally_key


class Command(BaseCommand):
    help = (
        "Print, per tenant, the signed-in pages served from the page cache, rendered and kept, "
        "and rendered without keeping."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Then set the counters to zero.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisations = list(Organisation.objects.order_by("slug").values_list("pk", "slug"))
        keys = [tally_key(pk, outcome) for pk, _slug in organisations for outcome in OUTCOMES]
        counts = cache.get_many(keys)
        self.stdout.write(
            f"{'tenant':<20} {'hits':>9} {'misses':>9} {'skipped':>9} {'hit rate':>9}"
        )
        for pk, slug in organisations:
            hit, miss, skip = (int(counts.get(tally_key(pk, o), 0)) for o in OUTCOMES)
            if not hit + miss + skip:
                continue
            rate = f"{hit / (hit + miss + skip):.0%}"
            self.stdout.write(f"{slug:<20} {hit:>9} {miss:>9} {skip:>9} {rate:>9}")
        if options["reset"]:
            cache.delete_many(keys)

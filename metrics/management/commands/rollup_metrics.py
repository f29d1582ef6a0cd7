"""``manage.py rollup_metrics [--since DATE]``: roll up yesterday, or backfill from DATE."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from crm_site.progress import Progress
from metrics.periods import local_today
from metrics.services import rollups as rollups_services


class Command(BaseCommand):
    help = (
        "Compute the daily KPI roll-ups: yesterday (company time zone) by default, or every day "
        "from --since through yesterday. Idempotent: the days are replaced."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="First day to roll up (YYYY-MM-DD); backfills through yesterday.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            since = parse_date(str(options["since"]))
            if since is None:
                raise CommandError(f"Not a date: {options['since']!r} (use e.g. 2025-03-01).")
            if since >= local_today():
                raise CommandError("--since must be a day before today: today's figures are computed live.")
        started = time.monotonic()
        if since is None:
            rows = rollups_services.rollup_yesterday()
        else:
            with Progress(self.stdout, verb="rolled up days") as progress:
                rows = rollups_services.rollup_through_yesterday(since=since, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"{rows} roll-up rows for {since or 'yesterday'} through yesterday "
                f"in {time.monotonic() - started:.1f} s"
            )
        )

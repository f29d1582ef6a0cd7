"""``manage.py warm_dashboards``: cache last week's, month's and quarter's dashboard figures."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from crm_site.progress import Progress
from metrics import dashboard


class Command(BaseCommand):
    help = (
        "Compute and cache the dashboard figures of last week, last month and last quarter for the "
        "company and every team (metrics/figures_cache.py), so those pages open fast. Run after "
        "rollup_metrics; harmless to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        with Progress(self.stdout, verb="warmed pages") as progress:
            pages = dashboard.warm_closed_dashboards(progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"{pages} dashboard pages warmed in {time.monotonic() - started:.1f} s")
        )

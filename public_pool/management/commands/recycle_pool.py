"""``manage.py recycle_pool [--dry-run] [--as-of DATETIME] [--batch-size N]``: the recycle job by hand."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from crm_site.progress import Progress
from public_pool import services
from public_pool.management.commands._options import parse_as_of


class Command(BaseCommand):
    help = "Send owned customers whose recycle rule fired back to a pool (the Celery job, by hand)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would move; change nothing.")
        parser.add_argument(
            "--as-of", help="Evaluate the rules as if it were this moment (ISO date/time, company time zone)."
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Customers per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_as_of(options["as_of"]) or timezone.now()
        if options["dry_run"]:
            for candidate in services.iter_recycle_candidates(as_of=as_of):
                self.stdout.write(
                    f"would recycle customer {candidate.customer_id} {candidate.name!r} "
                    f"owner={candidate.owner_id} rule={candidate.rule_id} ({candidate.trigger}) "
                    f"-> pool {candidate.target_pool_id}"
                )
        with Progress(self.stdout, verb="recycled") as progress:
            result = services.recycle_stale_customers(
                as_of=as_of,
                dry_run=bool(options["dry_run"]),
                batch_size=options["batch_size"],
                progress=None if options["dry_run"] else progress,
            )
        if result.skipped:
            self.stdout.write(self.style.WARNING("Another recycle run is in progress; nothing done."))
            return
        verb = "would recycle" if result.dry_run else "recycled"
        per_rule = ", ".join(f"rule {rule}: {count}" for rule, count in result.by_rule.items() if count)
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result.recycled} customers as of {as_of.isoformat()}")
            + (f" ({per_rule})" if per_rule else "")
        )

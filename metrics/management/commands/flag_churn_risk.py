"""``manage.py flag_churn_risk [--as-of DATETIME]``: refresh the churn early-warning flags."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from metrics.services import churn as churn_services
from public_pool.management.commands._options import parse_as_of


class Command(BaseCommand):
    help = "Flag paying customers at risk of churning (purchase overdue, detractor NPS, follow-ups stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="Evaluate as if it were this moment (ISO date/time).")

    def handle(self, *args: Any, **options: Any) -> None:
        flags = churn_services.flag_churn_risk(as_of=parse_as_of(options["as_of"]))
        self.stdout.write(self.style.SUCCESS(f"{flags} churn warnings current"))

"""``manage.py warn_recycle [--as-of DATETIME]``: warn owners and managers before recycling."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from public_pool import services
from public_pool.management.commands._options import parse_as_of


class Command(BaseCommand):
    help = "Notify and e-mail owners (and their managers) about customers that will be recycled soon."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="Evaluate as if it were this moment (ISO date/time).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.warn_recycle(as_of=parse_as_of(options["as_of"]))
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.warned} warnings, {result.escalated} escalations, {result.emails_sent} e-mails sent"
            )
        )

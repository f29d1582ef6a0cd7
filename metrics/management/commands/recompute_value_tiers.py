"""``manage.py recompute_value_tiers [--as-of DATETIME]``: recompute CLV value tiers A/B/C."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from metrics.services import tiers as tiers_services
from public_pool.management.commands._options import parse_as_of


class Command(BaseCommand):
    help = "Recompute every customer's value tier (A/B/C) from customer lifetime value."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="Evaluate as if it were this moment (ISO date/time).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = tiers_services.recompute_value_tiers(as_of=parse_as_of(options["as_of"]))
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.changed} tiers changed; A {result.a}, B {result.b}, C {result.c}, none {result.none}"
            )
        )

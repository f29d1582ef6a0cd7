"""``manage.py recompute_pool_priorities [--pool ID]``: re-score pooled leads."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from public_pool import services


class Command(BaseCommand):
    help = "Recompute the priority score of every lead in one pool or in all pools."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pool", type=int, default=None, help="Only this pool (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.recompute_pool_priorities(pool_id=options["pool"])
        self.stdout.write(self.style.SUCCESS(f"scored {count} leads"))

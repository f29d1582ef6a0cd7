"""``manage.py refresh_recycle_policies [--pool ID]``: re-match recycle rules and deadlines now.

The recycle job does this itself before recycling; run it by hand after bulk-loading owned
customers (COPY, seeds, benchmarks) so that the first job run does not pay for it.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from public_pool import services


class Command(BaseCommand):
    help = (
        "Re-match the recycle rule and deadline of owned customers (pools whose rules changed, flagged rows)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pool", type=int, default=None, help="Re-match every owned customer of this pool."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pool"] is not None:
            count = services.refresh_pool_recycle_policies(pool_id=options["pool"])
        else:
            count = services.refresh_changed_pools() + services.refresh_stale_recycle_policies()
        self.stdout.write(self.style.SUCCESS(f"re-matched {count} customers"))

"""``manage.py team_recycled_digest``: e-mail each manager the team's recently recycled customers."""

from typing import Any

from django.core.management.base import BaseCommand

from public_pool import services


class Command(BaseCommand):
    help = "E-mail each team manager the team's customers recycled since the last digest."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = services.send_team_recycled_digests()
        self.stdout.write(self.style.SUCCESS(f"{sent} digest e-mails sent"))

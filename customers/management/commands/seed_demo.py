"""``manage.py seed_demo``: demo users, teams, pools and customers with a year of history.

A thin caller of :mod:`customers.demo`, whose docstring tells how other apps add steps.
The defaults (2 teams, 6 reps, 300 customers) seed SQLite in seconds; the benchmark size is
``--customers 1000000 --reps 200 --managers 20`` on PostgreSQL (see bench/README.md).
"""

import os
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from crm_site.progress import Progress
from customers import demo
from customers.models import User

SHOWN_REPS = 10  # --print-logins lists this many reps and summarises the rest


class Command(BaseCommand):
    help = (
        "Create demo users (admin, manager1…, rep1…), teams, pools and customers with a year of "
        "history. Refuses to run over existing users or customers unless --flush is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = demo.SeedOptions()
        parser.add_argument("--customers", type=int, default=defaults.customers, help="customers to create")
        parser.add_argument("--reps", type=int, default=defaults.reps, help="sales reps (rep1…)")
        parser.add_argument(
            "--managers", type=int, default=defaults.managers, help="managers (manager1…), one team each"
        )
        parser.add_argument(
            "--followups-per-customer",
            type=float,
            default=defaults.followups_per_customer,
            help="average follow-ups per customer",
        )
        parser.add_argument(
            "--seed", type=int, default=defaults.seed, help="random seed (same seed, same data)"
        )
        parser.add_argument("--password", default=defaults.password, help="password of every demo user")
        parser.add_argument(
            "--as-of",
            default=None,
            help="end of the generated history, ISO date-time (default: now); fixes the output completely",
        )
        parser.add_argument(
            "--writer",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="auto: COPY on PostgreSQL, bulk_create elsewhere",
        )
        parser.add_argument(
            "--flush", action="store_true", help="delete ALL existing CRM data and users first"
        )
        parser.add_argument(
            "--check-empty",
            action="store_true",
            help="exit 0 when the database has no users or customers (seeding needed), 1 otherwise",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="only print the logins of an existing seed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check_empty"]:
            sys.exit(0 if demo.database_is_empty() else 1)
        if options["print_logins"]:
            self._print_logins(password=self._known_password(str(options["password"])))
            return
        seed_options = self._seed_options(options)
        started = time.monotonic()
        try:
            with Progress(self.stdout, verb="generated customers") as progress:
                report = demo.seed_demo(
                    seed_options, flush=bool(options["flush"]), log=self.stdout.write, progress=progress
                )
        except demo.DatabaseNotEmpty as error:
            raise CommandError(f"{error} Nothing was changed; run with --flush to replace them.") from error
        elapsed = time.monotonic() - started
        self.stdout.write(f"Seeded in {elapsed:.1f} s ({report.writer} writer).")
        self.stdout.write("Rows:")
        for label, count in report.row_counts.items():
            self.stdout.write(f"  {label:<24}{count:>12,}")
        if options["verbosity"] > 1 or seed_options.customers >= 100_000:
            self.stdout.write("Timings:")
            for what, seconds in report.timings:
                self.stdout.write(f"  {what:<24}{seconds:>10.1f} s")
        self._print_logins(password=seed_options.password)

    def _seed_options(self, options: dict) -> demo.SeedOptions:
        for name in ("customers", "reps", "managers"):
            if options[name] < 0:
                raise CommandError(f"--{name} cannot be negative.")
        if options["managers"] < 1 or options["reps"] < 1:
            raise CommandError("The demo needs at least one manager and one rep.")
        if options["followups_per_customer"] < 0:
            raise CommandError("--followups-per-customer cannot be negative.")
        as_of = None
        if options["as_of"]:
            as_of = parse_datetime(options["as_of"])
            if as_of is None:
                raise CommandError("--as-of must be an ISO date-time, e.g. 2025-06-30T18:00.")
            if is_naive(as_of):
                as_of = make_aware(as_of)
        return demo.SeedOptions(
            customers=options["customers"],
            reps=options["reps"],
            managers=options["managers"],
            followups_per_customer=options["followups_per_customer"],
            seed=options["seed"],
            password=options["password"],
            as_of=as_of,
            writer=options["writer"],
        )

    @staticmethod
    def _known_password(candidate: str) -> str:
        """The password to print: ``candidate`` if it still opens ``admin``, else a hint."""
        admin = User.objects.filter(username="admin").first()
        if admin is not None and admin.check_password(candidate):
            return candidate
        return "(the --password given to seed_demo)"

    def _print_logins(self, *, password: str) -> None:
        logins = demo.demo_logins()
        if not logins:
            self.stdout.write("No demo users found; run `manage.py seed_demo` first.")
            return
        url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/"
        self.stdout.write("")
        self.stdout.write(f"Demo logins — open {url} and sign in with password: {password}")
        self.stdout.write(f"  {'username':<12}{'role':<10}team")
        reps = [login for login in logins if login.role == "rep"]
        for login in logins:
            if login.role == "rep" and reps.index(login) >= SHOWN_REPS:
                continue
            self.stdout.write(f"  {login.username:<12}{login.role:<10}{login.team or '—'}")
        if len(reps) > SHOWN_REPS:
            self.stdout.write(
                f"  … and {len(reps) - SHOWN_REPS} more reps ({reps[SHOWN_REPS].username} … {reps[-1].username})"
            )
        self.stdout.write("A rep sees their own customers, a manager their team's, admin everything.")

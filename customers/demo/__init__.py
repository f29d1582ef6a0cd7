"""Demo data: ``manage.py seed_demo`` runs the steps in :data:`STEPS`, in order, in one transaction.

The built-in steps are ``organisation`` (admin, managers with their teams, reps),
``pools``, ``catalogue`` (tags, campaigns with monthly spend) and ``customers`` (customers
with contacts, follow-ups, deals, feedback, tags and campaign participants — the bulk,
streamed through ``COPY`` on PostgreSQL and ``bulk_create`` elsewhere).

Adding a step — e.g. the public pool's recycle rules and pool events::

    # public_pool/demo.py
    from customers.demo import SeedContext

    def seed_pool_history(ctx: SeedContext) -> None:
        # Small tables: the ORM. Big tables: set-based SQL over what the customer step wrote
        # (INSERT ... SELECT FROM customers_customer), or ctx.writer.bulk_load([Table(...)])
        # with rows generated from ctx.rng. Record row counts with ctx.counted("label", n).
        ...

    # public_pool/apps.py
    class PublicPoolConfig(AppConfig):
        def ready(self) -> None:
            from customers import demo
            from public_pool import demo as pool_demo

            demo.register_step(demo.Step("pool history", pool_demo.seed_pool_history), after="customers")

A step sees the context (:class:`SeedContext`): the options, one seeded ``random.Random``
(use only it, so ``--seed`` keeps the output deterministic), ``now`` and the ids of what
earlier steps made. Steps run inside the seed's transaction; a step must not open a
savepoint around another step's ``bulk_load``.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from crm_site.progress import Progress
from customers.demo import customer_history, organisation
from customers.demo.context import SeedContext, SeedOptions, Step
from customers.demo.writers import Table, minute_of, writer_for
from customers.models import Customer, Role, User

__all__ = [
    "STEPS",
    "DatabaseNotEmpty",
    "Login",
    "SeedContext",
    "SeedOptions",
    "SeedReport",
    "Step",
    "Table",
    "database_is_empty",
    "demo_logins",
    "flush_demo_data",
    "register_step",
    "seed_demo",
]

STEPS: list[Step] = [
    Step("organisation", organisation.seed_organisation),
    Step("pools", organisation.seed_pools),
    Step("catalogue", organisation.seed_catalogue),
    Step("customers", customer_history.seed_customers),
]

# What --flush empties (app label -> model names, None = all of the app's models); tables that
# refer to these go too (cascade).
FLUSH_MODELS: dict[str, set[str] | None] = {
    "customers": None,
    "public_pool": {"pool", "pool_teams"},
    "sessions": {"session"},
}


def register_step(step: Step, *, after: str | None = None) -> None:
    """Add ``step`` after the step named ``after`` (default: at the end); a same-named step is replaced."""
    for index, existing in enumerate(STEPS):
        if existing.name == step.name:
            del STEPS[index]
            break
    position = len(STEPS)
    if after is not None:
        names = [existing.name for existing in STEPS]
        if after not in names:
            raise ValueError(f"No seed step named {after!r}; steps: {names}")
        position = names.index(after) + 1
    STEPS.insert(position, step)


class DatabaseNotEmpty(Exception):
    """Seeding over existing users or customers would mix demo data into them."""


@dataclass
class SeedReport:
    row_counts: dict[str, int]
    # (what, seconds): each step, then the writer's phases (copy, indexes, ...).
    timings: list[tuple[str, float]] = field(default_factory=list)
    writer: str = ""


def database_is_empty(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when there are no users and no customers: seeding is needed."""
    return not User.objects.using(using).exists() and not Customer.objects.using(using).exists()


def flush_demo_data(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Delete the CRM's data: users, teams, customers and their history, tags, campaigns, pools.

    Django's own flush SQL with cascade: ``TRUNCATE ... RESTART IDENTITY CASCADE`` on
    PostgreSQL, ``DELETE`` on SQLite, over these tables and every table that refers to them
    (pool events and rules, API tokens, admin log...), plus sessions (user ids restart, so an
    old session must not log in as a new user). Configuration rows that refer to none of
    them (release reasons, priority weights, periodic-task schedules) stay.
    """
    connection = connections[using]
    tables = {
        model._meta.db_table
        for label, names in FLUSH_MODELS.items()
        if label in {config.label for config in apps.get_app_configs()}
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if names is None or model._meta.model_name in names
    }
    existing = set(connection.introspection.table_names())
    sql = connection.ops.sql_flush(
        no_style(), sorted(tables & existing), reset_sequences=True, allow_cascade=True
    )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred key checks of rows written earlier in this transaction fire first, and the
            # pool event log refuses TRUNCATE unless this is on (public_pool migration 0003):
            # wiping a demo database on purpose is the case it exists for.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL crm.allow_event_truncate = on")
        for statement in sql:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def seed_demo(
    options: SeedOptions,
    *,
    flush: bool = False,
    log: Callable[[str], None] = print,
    progress: Progress | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> SeedReport:
    """Run every step of :data:`STEPS` in one transaction and return row counts and timings.

    Raises :class:`DatabaseNotEmpty` when users or customers exist and ``flush`` is false:
    running twice never duplicates the demo. With ``flush`` the existing data is deleted
    first, in the same transaction, so a failed seed leaves the old data in place.
    """
    connection = connections[using]
    writer = writer_for(connection, options.writer)
    moment = options.as_of or timezone.now()
    offset = moment.astimezone(timezone.get_default_timezone()).utcoffset()
    ctx = SeedContext(
        options=options,
        rng=random.Random(options.seed),  # noqa: S311 - demo data, not security
        now=minute_of(moment),
        utc_offset=int(offset.total_seconds() // 60) if offset else 0,
        writer=writer,
        log=log,
        progress=progress,
    )
    report = SeedReport(row_counts=ctx.row_counts, writer=writer.name)
    with transaction.atomic(using=using):
        if flush:
            started = time.monotonic()
            flush_demo_data(using=using)
            report.timings.append(("flush", time.monotonic() - started))
        if not database_is_empty(using=using):
            raise DatabaseNotEmpty(
                f"The database already has {User.objects.using(using).count()} users and "
                f"{Customer.objects.using(using).count()} customers."
            )
        for step in list(STEPS):
            started = time.monotonic()
            step.run(ctx)
            report.timings.append((step.name, time.monotonic() - started))
    started = time.monotonic()
    writer.after_commit()
    report.timings.append(("analyze", time.monotonic() - started))
    report.timings.extend((f"  of which {phase}", seconds) for phase, seconds in writer.timings.items())
    return report


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    team: str


_DEMO_USERNAME = re.compile(r"^(admin|manager\d+|rep\d+)$")
_ROLE_ORDER: dict[str, int] = {Role.ADMIN: 0, Role.MANAGER: 1, Role.REP: 2}


def demo_logins(*, using: str = DEFAULT_DB_ALIAS) -> list[Login]:
    """The seeded users (``admin``, ``managerN``, ``repN``) in a readable order."""
    users = User.objects.using(using).select_related("team").order_by("pk")
    logins = [
        (
            _ROLE_ORDER.get(user.role, 3),
            int(re.sub(r"\D", "", user.username) or 0),
            Login(username=user.username, role=user.role, team=user.team.name if user.team else ""),
        )
        for user in users
        if _DEMO_USERNAME.match(user.username)
    ]
    return [login for *_key, login in sorted(logins, key=lambda item: item[:2])]

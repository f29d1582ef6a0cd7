"""What every seeding step receives: the options, one random generator, the clock and a writer."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_site.progress import Progress
from customers.demo.writers import MINUTES_PER_DAY, Writer


@dataclass(frozen=True)
class SeedOptions:
    """The knobs of ``manage.py seed_demo`` (see its ``--help``)."""

    customers: int = 300
    reps: int = 6
    managers: int = 2
    followups_per_customer: float = 5.0
    seed: int = 42
    password: str = "demo"  # noqa: S105 - the documented demo password
    # The moment the history ends; None = now (rounded down to the minute).
    as_of: datetime | None = None
    # "auto" (COPY on PostgreSQL, bulk_create elsewhere), "copy" or "orm".
    writer: str = "auto"


@dataclass
class SeedContext:
    """Shared state of one seed run.

    Timestamps are whole minutes since the Unix epoch (see ``writers``); ``now`` is the end of
    the generated history and ``utc_offset`` the company time zone's offset from UTC in
    minutes, so that generated activity falls in office hours there.

    Steps record what later steps need in the typed fields or in ``shared`` (for steps of
    other apps), and report rows written with :meth:`counted`.
    """

    options: SeedOptions
    rng: random.Random
    now: int
    utc_offset: int
    writer: Writer
    log: Callable[[str], None]
    # Where the customers step shows its progress (``manage.py seed_demo``); None: ``log`` lines.
    progress: Progress | None = None
    password_hash: str = ""
    admin_id: int | None = None
    # (user id, team id, team region) of every rep, in username order.
    reps: list[tuple[int, int, str]] = field(default_factory=list)
    manager_ids: list[int] = field(default_factory=list)
    # team id -> region of every team.
    team_regions: dict[int, str] = field(default_factory=dict)
    # region -> pool id where that region's released leads go.
    pool_for_region: dict[str, int] = field(default_factory=dict)
    tag_ids: list[int] = field(default_factory=list)
    # (campaign id, channel, first day, last day) with days since the epoch.
    campaigns: list[tuple[int, str, int, int]] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)

    def counted(self, label: str, rows: int) -> None:
        self.row_counts[label] = self.row_counts.get(label, 0) + rows

    @property
    def today(self) -> int:
        """Today's date in the company time zone, as days since the epoch."""
        return (self.now + self.utc_offset) // MINUTES_PER_DAY


@dataclass(frozen=True)
class Step:
    """One stage of the seed: a name (for ordering and timing) and a function of the context."""

    name: str
    run: Callable[[SeedContext], None]

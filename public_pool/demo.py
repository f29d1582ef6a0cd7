"""The public pool's step of ``seed_demo``: recycle rules, home pools, a year of pool events.

Runs after the ``customers`` step (registered in ``PublicPoolConfig.ready``) over what it
wrote, and derives everything from the customer rows, so the log agrees with them:

- every pool gets two recycle rules — "A-level customers" (priority 10: 60 days without a
  follow-up, 180 days without a won deal, exempt with an open deal at negotiation or later)
  and "Everyone" (priority 100: 30 days without follow-up, 90 days without a won deal, exempt
  from proposal on) — both warning 7 days ahead. The nationwide pool is the default one
  (``organisation.seed_pools`` marks it).
- an owned customer whose ``claimed_at`` is later than its ``created_at`` came from a pool:
  its ``home_pool`` is its region's pool. One entered by its rep (``claimed_at = created_at``)
  never was pooled and keeps ``home_pool`` empty, so it follows the default pool's rules
  (``public_pool.models``).
- events (all at the moments the customer rows already carry):

  * pooled, never worked (``pooled_at = created_at``): one ``create`` (``import`` when the
    source is ``import``) into its pool at ``pooled_at``;
  * pooled after a rep worked it: ``create``/``import`` at ``created_at``, the rep's ``claim``
    at ``created_at``, and at ``pooled_at`` a ``release`` with a reason (60 %) or a ``recycle``
    naming the pool's "Everyone" rule (40 %) into the pool — that last event is its entry;
  * owned and taken from a pool: ``create``/``import`` at ``created_at``; for three in ten an
    earlier round (another rep claims a third of the way to the final claim, and releases or
    loses it to recycling at two thirds); then the owner's ``claim`` at ``claimed_at``.

  The rep who worked a pooled customer is the author of its first follow-up (else a rep
  picked by id). Choices are by customer id (``id % 10`` ...), not by ``ctx.rng``: the
  events are a function of the customer rows, which ``--seed`` already fixes.

Two steps: ``pool rules`` (after ``pools``) creates the rules and hands the customer generator
a function (``_SeedPolicy``) that fills each row's home pool, rule columns, deadline and
priority as it is generated — no second pass rewrites a million customer rows and rebuilds
their twenty indexes. ``pool history`` (after ``customers``) writes the events: on PostgreSQL
one ``INSERT ... SELECT`` per kind of history over the customer table (about 1.4 M rows at
1 M customers); elsewhere (SQLite) the same history built in Python in chunks and written
with ``bulk_create``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

from django.db import connection

from customers import services as customer_services
from customers.demo import customer_history, vocabulary
from customers.demo.context import SeedContext
from customers.demo.writers import MINUTES_PER_DAY, CopyWriter, datetime_of
from customers.models import Customer, DealStage, FollowUp, Level, Role, User
from public_pool.models import (
    Notification,
    NotificationKind,
    Pool,
    PoolEvent,
    PriorityWeights,
    RecycleRule,
    ReleaseReason,
)
from public_pool.services import priority

RULES = [
    # (name, priority, level, no_followup_days, no_deal_days, exempt_open_deal_from_stage)
    ("A-level customers", 10, Level.A, 60, 180, "negotiation"),
    ("Everyone", 100, "", 30, 90, "proposal"),
]
WARN_DAYS = 7
# An owned customer whose deadline falls before now + this many minutes was recycled at its
# deadline (the job ran all along): the first real run after the seed has little left to do.
RECYCLE_MARGIN_MINUTES = 60
RECENT_DAYS = 30  # recycled this recently: the former owner's notice is seeded too
RECYCLED_KEY = "pool_demo_recycled"
EARLIER_ROUND_PER_TEN = 3  # owned customers taken from a pool that had an earlier owner
RECYCLED_PER_TEN = 4  # of losses, the share by recycling rather than release
FALLBACK_REASONS = ["no_need", "no_budget", "unreachable", "competitor", "other"]


def seed_pool_rules(ctx: SeedContext) -> None:
    """Before the customers: the rules, and the function that gives each generated customer its
    home pool, rule columns, deadline and priority (``customer_history.POLICY_KEY``)."""
    pools = list(Pool.objects.order_by("pk"))
    if not pools:
        return
    _seed_rules(ctx, pools)
    policy = _SeedPolicy(ctx, pools)
    ctx.shared[customer_history.POLICY_KEY] = policy
    ctx.shared[customer_history.RECYCLER_KEY] = policy.recycle
    ctx.shared[RECYCLED_KEY] = policy.recycled


def seed_pool_history(ctx: SeedContext) -> None:
    """After the customers: the event log (see the module)."""
    pools = list(Pool.objects.order_by("pk"))
    if not pools:
        return
    everyone_rule = dict(
        RecycleRule.objects.filter(name=RULES[-1][0], pool__in=pools).values_list("pool_id", "pk")
    )
    reason_codes = list(ReleaseReason.objects.filter(active=True).values_list("code", flat=True))
    reasons = [code for code in reason_codes if code != "other"] or FALLBACK_REASONS
    rep_ids = list(User.objects.filter(role=Role.REP).order_by("pk").values_list("pk", flat=True))
    if not rep_ids or not Customer.objects.exists():
        return
    actor = ctx.admin_id or User.objects.filter(role=Role.ADMIN).values_list("pk", flat=True).first()
    region_pools = _region_pools(ctx, pools)
    started = time.monotonic()
    recycled = ctx.shared.get(RECYCLED_KEY, [])
    arguments: dict[str, Any] = {
        "lost": {row[0]: (row[2], row[3], row[1]) for row in recycled},
        "region_pools": region_pools,
        "rule_for_pool": everyone_rule,
        "reasons": reasons,
        "rep_ids": rep_ids,
        "admin_id": actor,
    }
    if connection.vendor == "postgresql":
        with _indexes_dropped(ctx, PoolEvent._meta.db_table):
            events = _events_sql(**arguments)
    else:
        events = _events_python(**arguments)
    ctx.counted("pool events", events)
    ctx.log(f"  pool events: {time.monotonic() - started:.1f} s")
    ctx.counted("recycled notices", _seed_recycled_notices(ctx, recycled))
    ctx.counted("recycle warnings", _seed_warnings(ctx))


def _seed_warnings(ctx: SeedContext) -> int:
    """Today's ``recycle_warning`` notices, as the daily warn job writes them, for owned
    customers inside their rule's warning window (marked e-mailed: the seed sends no mail)."""
    now = datetime_of(ctx.now)
    due = (
        Customer.objects.filter(owner__isnull=False, recycle_due_at__gt=now, recycle_rule__isnull=False)
        .filter(recycle_due_at__lte=now + timedelta(days=WARN_DAYS))
        .values_list("pk", "owner_id", "recycle_due_at", "name", "recycle_rule__warn_days")
    )
    notices = [
        Notification(
            user_id=owner_id,
            kind=NotificationKind.RECYCLE_WARNING,
            customer_id=pk,
            due_at=due_at,
            params={"customer": name},
            created_at=now,
            emailed_at=now,
        )
        for pk, owner_id, due_at, name, warn_days in due.iterator(chunk_size=2000)
        if due_at is not None and due_at <= now + timedelta(days=warn_days)
    ]
    Notification.objects.bulk_create(notices, batch_size=1000, ignore_conflicts=True)
    return len(notices)


def _seed_recycled_notices(ctx: SeedContext, recycled: list[tuple[int, int, int, str, int, int, int]]) -> int:
    """The former owner's ``recycled`` notice for each customer the seed recycled in the last
    :data:`RECENT_DAYS` days, as the recycle job writes it; those older than a day count as
    already e-mailed (the first digest does not flood anyone)."""
    recent = [row for row in recycled if row[4] >= ctx.now - RECENT_DAYS * MINUTES_PER_DAY]
    if not recent:
        return 0
    names = dict(Customer.objects.filter(pk__in=[row[0] for row in recent]).values_list("pk", "name"))
    rules = {rule.pk: rule for rule in RecycleRule.objects.filter(pk__in={row[2] for row in recent})}
    pool_names = dict(Pool.objects.values_list("pk", "name"))
    targets = dict(Customer.objects.filter(pk__in=[row[0] for row in recent]).values_list("pk", "pool_id"))
    day_ago = datetime_of(ctx.now - MINUTES_PER_DAY)
    notices = []
    for customer_id, owner_id, rule_id, trigger, due, since, days in recent:
        at = datetime_of(due)
        notices.append(
            Notification(
                user_id=owner_id,
                kind=NotificationKind.RECYCLED,
                customer_id=customer_id,
                due_at=at,
                params={
                    "customer": names.get(customer_id, ""),
                    "rule": rules[rule_id].name,
                    "pool": pool_names.get(targets.get(customer_id) or 0, ""),
                    "trigger": trigger,
                    "since": datetime_of(since).isoformat(),
                    "days": days,
                },
                created_at=at,
                emailed_at=at if at < day_ago else None,
                team_digested_at=at if at < day_ago else None,
            )
        )
    Notification.objects.bulk_create(notices, batch_size=1000)
    return len(notices)


class _SeedPolicy:
    """The public pool's columns of one generated customer, computed in Python from what the
    generator knows, so that no second pass rewrites the customer table.

    It is the Python twin of ``policies.policy_updates`` + ``customers.services.
    recycle_due_at_expression`` (for the seed's rules, which match on the level only) and of
    ``priority.priority_expression``; ``tests/public_pool/test_demo.py`` recomputes every row
    with those services and checks nothing changes. Owned customers taken from a pool
    (``claimed_at > created``) get their region's pool as home; those their rep entered keep
    none and follow the default pool's rules; pooled leads get their pool as home and a score.
    """

    def __init__(self, ctx: SeedContext, pools: list[Pool]) -> None:
        self.region_pools = _region_pools(ctx, pools)
        self.default_pool = next((p.pk for p in pools if p.is_default), pools[0].pk)
        self.rules: dict[int, dict[str, RecycleRule]] = {}
        for rule in RecycleRule.objects.filter(pool__in=pools, enabled=True):
            self.rules.setdefault(rule.pool_id, {})["A" if rule.level == Level.A else ""] = rule
        self.now = ctx.now
        self.recycle_targets = {pool.pk: pool.recycle_target_id for pool in pools}
        self.recycled: list[tuple[int, int | None, int, str, int, int, int]] = []
        self.scorers = {pool.pk: _Scorer(priority.weights_for(pool.pk), ctx.now) for pool in pools}

    def recycle(self, customer_id: int, facts: customer_history.CustomerFacts) -> tuple[int, int] | None:
        """``(pool, moment)`` when the customer's rule would already have recycled it (the
        generator then writes it pooled since that moment), else None. Remembers the loss for
        the history step: ``(customer, owner, rule, trigger, due, since, days)``."""
        if facts.owner_id is None:
            return None
        claimed_from_pool = facts.claimed_at is not None and facts.claimed_at > facts.created
        home = self.region_pools.get(facts.region) if claimed_from_pool else None
        rule = self.rules[home or self.default_pool]["A" if facts.level == Level.A else ""]
        parts = _deadline_parts(facts, rule)
        if parts is None or parts[0] > self.now + RECYCLE_MARGIN_MINUTES:
            return None
        due, trigger, since, days = parts
        target = rule.target_pool_id or self.recycle_targets.get(rule.pool_id) or rule.pool_id
        self.recycled.append((customer_id, facts.owner_id, rule.pk, trigger, due, since, days))
        return target, due

    def __call__(self, facts: customer_history.CustomerFacts) -> tuple:
        if facts.owner_id is None:
            score = self.scorers[cast(int, facts.pool_id)](facts)  # an unowned customer is pooled
            return (facts.pool_id, None, None, None, "", None, False, score)
        claimed_from_pool = facts.claimed_at is not None and facts.claimed_at > facts.created
        home = self.region_pools.get(facts.region) if claimed_from_pool else None
        rule = self.rules[home or self.default_pool]["A" if facts.level == Level.A else ""]
        due = _deadline(facts, rule)
        return (
            home,
            rule.pk,
            rule.no_followup_days,
            rule.no_deal_days,
            rule.exempt_open_deal_from_stage,
            due,
            False,
            0,
        )


def _deadline(facts: customer_history.CustomerFacts, rule: RecycleRule) -> int | None:
    """``recycle_due_at`` in minutes, as ``recycle_due_at_expression`` computes it (no extension)."""
    parts = _deadline_parts(facts, rule)
    return parts[0] if parts else None


def _deadline_parts(
    facts: customer_history.CustomerFacts, rule: RecycleRule
) -> tuple[int, str, int, int] | None:
    """``(due, trigger, since, days)`` in minutes: the deadline, the trigger that sets it
    (``no_followup`` first on a tie, as the recycle job decides), when its clock started and
    its length in days; None without a deadline."""
    exempt_stages = customer_services.stages_at_or_past(rule.exempt_open_deal_from_stage)
    if facts.is_protected or any(stage in exempt_stages for stage, _closed in facts.deals):
        return None
    claimed = facts.claimed_at if facts.claimed_at is not None else facts.created
    clock = max(facts.last_followup if facts.last_followup is not None else claimed, claimed)
    won_since_claim = any(
        stage == DealStage.WON and closed is not None and closed >= claimed for stage, closed in facts.deals
    )
    idle_off = rule.no_followup_days is None
    deal_off = rule.no_deal_days is None or won_since_claim
    if idle_off and deal_off:
        return None
    idle_days, deal_days = rule.no_followup_days, None if deal_off else rule.no_deal_days
    idle_due = None if idle_days is None else clock + idle_days * MINUTES_PER_DAY
    deal_due = None if deal_days is None else claimed + deal_days * MINUTES_PER_DAY
    if idle_due is not None and idle_days is not None and (deal_due is None or idle_due <= deal_due):
        return idle_due, "no_followup", clock, idle_days
    if deal_due is None or deal_days is None:  # cannot happen: not both off (checked above)
        return None
    return deal_due, "no_deal", claimed, deal_days


class _Scorer:
    """``priority.priority_expression`` in Python for one pool's weights at ``now`` (minutes)."""

    def __init__(self, weights: PriorityWeights, now: int) -> None:
        self.weights = weights
        self.now = now
        self.tables = {
            "industry": priority.category_scores(priority.DEFAULT_INDUSTRY_SCORES, weights.industry_scores),
            "size": priority.category_scores(priority.DEFAULT_SIZE_SCORES, weights.size_scores),
            "source": priority.category_scores(priority.DEFAULT_SOURCE_SCORES, weights.source_scores),
            "level": priority.category_scores(priority.DEFAULT_LEVEL_SCORES, weights.level_scores),
        }
        self.step = weights.recency_horizon_days * MINUTES_PER_DAY / priority.RECENCY_STEPS
        self.total = sum(
            (
                weights.industry_weight,
                weights.size_weight,
                weights.source_weight,
                weights.level_weight,
                weights.recency_weight,
                weights.engagement_weight,
            )
        )

    def recency(self, activity: int) -> int:
        for i in range(priority.RECENCY_STEPS):
            if activity >= self.now - self.step * (i + 1):
                return 100 - i * (100 // priority.RECENCY_STEPS)
        return 0

    def __call__(self, facts: customer_history.CustomerFacts) -> int:
        if self.total == 0:
            return 0
        weights, tables = self.weights, self.tables
        deals = len(facts.deals)
        won = sum(1 for stage, _closed in facts.deals if stage == DealStage.WON)
        engagement = min(
            facts.followups * priority.FOLLOWUP_POINTS
            + deals * priority.DEAL_POINTS
            + won * priority.WON_POINTS,
            100,
        )
        activity = facts.last_followup if facts.last_followup is not None else facts.created
        weighted = (
            weights.industry_weight * tables["industry"].get(facts.industry, 0)
            + weights.size_weight * tables["size"].get(facts.size, 0)
            + weights.source_weight * tables["source"].get(facts.source, 0)
            + weights.level_weight * tables["level"].get(facts.level, 0)
            + weights.recency_weight * self.recency(activity)
            + weights.engagement_weight * engagement
        )
        return weighted * 10 // self.total


def _region_pools(ctx: SeedContext, pools: list[Pool]) -> dict[str, int]:
    if ctx.pool_for_region:
        return ctx.pool_for_region
    default = next(p.pk for p in pools if p.is_default)
    return dict.fromkeys(vocabulary.REGIONS, default)


@contextmanager
def _indexes_dropped(ctx: SeedContext, table: str) -> Iterator[None]:
    """Drop ``table``'s secondary indexes and foreign keys around bulk writes, then rebuild them.

    1.4 M events inserted with 8 indexes and four deferred foreign-key checks a row cost over a
    minute, against a fresh build of each index afterwards. On PostgreSQL only (the writer's
    catalogue-driven drop-and-rebuild, keys validated by one join each).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes, foreign_keys = CopyWriter._drop_secondary(cursor, [table])
    yield
    started = time.monotonic()
    with connection.cursor() as cursor:
        for sql in [*indexes, *foreign_keys]:
            cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ctx.log(f"  {table} indexes rebuilt: {time.monotonic() - started:.1f} s")


def _seed_rules(ctx: SeedContext, pools: list[Pool]) -> None:
    """Two rules per pool (module docstring)."""
    rules = [
        RecycleRule(
            pool=pool,
            name=name,
            priority=order,
            level=level,
            no_followup_days=idle,
            no_deal_days=deal,
            exempt_open_deal_from_stage=stage,
            warn_days=WARN_DAYS,
        )
        for pool in pools
        for name, order, level, idle, deal, stage in RULES
    ]
    RecycleRule.objects.bulk_create(rules)
    ctx.counted("recycle rules", len(rules))


# --- PostgreSQL: set-based ------------------------------------------------------------------

_COLUMNS = "customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id, reason, note, rule_id, override, at"

# Customers with the pool they belong to (pooled: their pool; owned: their region's pool), the
# rep who worked a pooled one, and the moments of an owned one's earlier round.
_BASE = """
WITH region_pool(region, pool_id) AS (SELECT * FROM unnest(%(regions)s::text[], %(region_pools)s::int[])),
rule_of(pool_id, rule_id) AS (SELECT * FROM unnest(%(rule_pools)s::int[], %(rule_ids)s::int[])),
lost(id, rule_id, trigger, owner_id) AS (
    SELECT * FROM unnest(%(lost_ids)s::bigint[], %(lost_rules)s::int[], %(lost_triggers)s::text[], %(lost_owners)s::int[])
),
base AS (
    SELECT c.id, c.owner_id, c.created_at, c.claimed_at, c.pooled_at,
           CASE WHEN c.source = 'import' THEN 'import' ELSE 'create' END AS entry_kind,
           COALESCE(c.pool_id, rp.pool_id) AS pool_id,
           COALESCE(lost.rule_id, ro.rule_id) AS rule_id,
           (%(reps)s::int[])[1 + (c.id * 7 + 3) %% cardinality(%(reps)s::int[])] AS other_rep,
           (%(reasons)s::text[])[1 + (c.id / 10) %% cardinality(%(reasons)s::text[])] AS reason,
           lost.id IS NOT NULL OR c.id %% 10 < %(recycled)s AS recycled,
           COALESCE(lost.trigger, 'no_followup') AS trigger,
           lost.owner_id AS lost_owner
    FROM customers_customer c
    JOIN region_pool rp ON rp.region = c.region
    LEFT JOIN rule_of ro ON ro.pool_id = COALESCE(c.pool_id, rp.pool_id)
    LEFT JOIN lost ON lost.id = c.id
    WHERE {where}
)
"""

# Customers the seed recycled at their deadline (``_SeedPolicy.recycle``) lose them to that
# rule and trigger; other pooled ones by the share ``RECYCLED_PER_TEN``.
_LOSS = """
    CASE WHEN b.recycled THEN 'recycle' ELSE 'release' END, NULL::bigint, {owner}, NULL::bigint, NULL::bigint, b.pool_id,
    CASE WHEN b.recycled THEN b.trigger ELSE b.reason END, '', CASE WHEN b.recycled THEN b.rule_id END, false
"""

_STATEMENTS = [
    # Pooled, never worked: the entry at pooled_at.
    (
        "c.pool_id IS NOT NULL AND c.pooled_at = c.created_at",
        "SELECT b.id, b.entry_kind, %(admin)s, NULL::bigint, NULL::bigint, NULL::bigint, b.pool_id, '', '', NULL::bigint, false, b.pooled_at FROM base b",
    ),
    # Pooled after a rep worked it: entry, claim, loss at pooled_at.
    (
        "c.pool_id IS NOT NULL AND c.pooled_at > c.created_at",
        """, worked AS (
            SELECT b.*, COALESCE(b.lost_owner,
                (SELECT f.by_id FROM customers_followup f WHERE f.customer_id = b.id ORDER BY f.at, f.id LIMIT 1),
                b.other_rep) AS worker
            FROM base b
        )
        SELECT b.id, b.entry_kind, %(admin)s, NULL::bigint, NULL::bigint, NULL::bigint, b.pool_id, '', '', NULL::bigint, false, b.created_at FROM worked b
        UNION ALL
        SELECT b.id, 'claim', b.worker, NULL::bigint, b.worker, b.pool_id, NULL::bigint, '', '', NULL::bigint, false, b.created_at FROM worked b
        UNION ALL
        SELECT b.id, """  # noqa: S608 - constant SQL
        + _LOSS.format(owner="b.worker")
        + ", b.pooled_at FROM worked b",
    ),
    # Owned, taken from a pool: entry, maybe an earlier round, the owner's claim at claimed_at.
    (
        "c.owner_id IS NOT NULL AND c.claimed_at > c.created_at",
        """
        SELECT b.id, b.entry_kind, %(admin)s, NULL::bigint, NULL::bigint, NULL::bigint, b.pool_id, '', '', NULL::bigint, false, b.created_at FROM base b
        UNION ALL
        SELECT b.id, 'claim', b.other_rep, NULL::bigint, b.other_rep, b.pool_id, NULL::bigint, '', '', NULL::bigint, false,
               b.created_at + (b.claimed_at - b.created_at) / 3
        FROM base b WHERE b.id %% 10 >= 10 - %(earlier)s AND b.other_rep <> b.owner_id
        UNION ALL
        SELECT b.id, """  # noqa: S608 - constant SQL
        + _LOSS.format(owner="b.other_rep")
        + """, b.created_at + (b.claimed_at - b.created_at) * 2 / 3
        FROM base b WHERE b.id %% 10 >= 10 - %(earlier)s AND b.other_rep <> b.owner_id
        UNION ALL
        SELECT b.id, 'claim', b.owner_id, NULL::bigint, b.owner_id, b.pool_id, NULL::bigint, '', '', NULL::bigint, false, b.claimed_at FROM base b
        """,
    ),
]


def _events_sql(
    *,
    region_pools: dict[str, int],
    rule_for_pool: dict[int, int],
    reasons: list[str],
    rep_ids: list[int],
    admin_id: int | None,
    lost: dict[int, tuple[int, str, int]],
) -> int:
    params: dict[str, Any] = {
        "lost_ids": list(lost),
        "lost_rules": [rule for rule, _trigger, _owner in lost.values()],
        "lost_triggers": [trigger for _rule, trigger, _owner in lost.values()],
        "lost_owners": [owner for _rule, _trigger, owner in lost.values()],
        "regions": list(region_pools),
        "region_pools": list(region_pools.values()),
        "rule_pools": list(rule_for_pool),
        "rule_ids": list(rule_for_pool.values()),
        "reps": rep_ids,
        "reasons": reasons,
        "recycled": RECYCLED_PER_TEN,
        "earlier": EARLIER_ROUND_PER_TEN,
        "admin": admin_id,
    }
    written = 0
    with connection.cursor() as cursor:
        for where, select in _STATEMENTS:
            # INSERT INTO ... WITH ... SELECT; a select starting with "," adds to the WITH list.
            sql = _BASE.format(where=where) + select
            cursor.execute(f"INSERT INTO public_pool_poolevent ({_COLUMNS}) {sql}", params)
            written += cursor.rowcount
    return written


# --- other databases (SQLite demo): the same history in Python ------------------------------


def _events_python(
    *,
    region_pools: dict[str, int],
    rule_for_pool: dict[int, int],
    reasons: list[str],
    rep_ids: list[int],
    admin_id: int | None,
    lost: dict[int, tuple[int, str, int]],
    chunk: int = 2000,
) -> int:
    written = 0
    last = 0
    fields = ("pk", "owner_id", "pool_id", "region", "source", "created_at", "claimed_at", "pooled_at")
    while True:
        rows = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list(*fields)[:chunk])
        if not rows:
            return written
        last = rows[-1][0]
        first_worker = dict(
            FollowUp.objects.filter(customer_id__in=[r[0] for r in rows])
            .order_by("customer_id", "-at", "-id")
            .values_list("customer_id", "by_id")
        )
        events: list[PoolEvent] = []
        for pk, owner_id, pool_id, region, source, created, claimed, pooled in rows:
            found = pool_id or region_pools.get(region)
            if found is None:
                continue
            home: int = found
            entry = "import" if source == "import" else "create"
            other = rep_ids[(pk * 7 + 3) % len(rep_ids)]
            reason = reasons[(pk // 10) % len(reasons)]
            recycled = pk in lost or pk % 10 < RECYCLED_PER_TEN
            rule_id, trigger, lost_owner = lost.get(pk, (rule_for_pool.get(home), "no_followup", None))

            def loss(
                rep: int,
                at,
                customer: int = pk,
                pool: int = home,
                why: str = reason,
                rec: bool = recycled,
                rule: int | None = rule_id,
                fired: str = trigger,
            ):
                return PoolEvent(
                    customer_id=customer,
                    kind="recycle" if rec else "release",
                    from_owner_id=rep,
                    to_pool_id=pool,
                    reason=fired if rec else why,
                    rule_id=rule if rec else None,
                    at=at,
                )

            def take(rep: int, at, customer: int = pk, pool: int = home):
                return PoolEvent(
                    customer_id=customer,
                    kind="claim",
                    actor_id=rep,
                    to_owner_id=rep,
                    from_pool_id=pool,
                    at=at,
                )

            if pool_id is not None:
                events.append(
                    PoolEvent(customer_id=pk, kind=entry, actor_id=admin_id, to_pool_id=home, at=created)
                )
                if pooled > created:
                    worker = lost_owner or first_worker.get(pk, other)
                    events += [take(worker, created), loss(worker, pooled)]
            elif claimed and claimed > created:
                events.append(
                    PoolEvent(customer_id=pk, kind=entry, actor_id=admin_id, to_pool_id=home, at=created)
                )
                span = claimed - created
                if pk % 10 >= 10 - EARLIER_ROUND_PER_TEN and other != owner_id:
                    events += [take(other, created + span / 3), loss(other, created + span * 2 / 3)]
                events.append(take(owner_id, claimed))
        PoolEvent.objects.bulk_create(events, batch_size=500)
        written += len(events)

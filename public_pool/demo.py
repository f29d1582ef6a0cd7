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

On PostgreSQL the events are one ``INSERT ... SELECT`` per kind of history over the
customer table (about 1.4 M rows at 1 M customers); elsewhere (SQLite) the same history is
built in Python in chunks and written with ``bulk_create``. Then the set-based services
compute the policy columns and deadlines (``policy_updates`` in one UPDATE per pool with the
home pool, ``refresh_recycle_policies`` for the never-pooled) and the priority scores
(``recompute_priorities``), so each owned row is rewritten once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models
from django.db.models import Case, F, Value, When

from customers import services as customer_services
from customers.demo.context import SeedContext
from customers.demo.writers import CopyWriter
from customers.models import Customer, FollowUp, Level, Role, User
from public_pool.models import Pool, PoolEvent, RecycleRule, ReleaseReason
from public_pool.services import priority

RULES = [
    # (name, priority, level, no_followup_days, no_deal_days, exempt_open_deal_from_stage)
    ("A-level customers", 10, Level.A, 60, 180, "negotiation"),
    ("Everyone", 100, "", 30, 90, "proposal"),
]
WARN_DAYS = 7
EARLIER_ROUND_PER_TEN = 3  # owned customers taken from a pool that had an earlier owner
RECYCLED_PER_TEN = 4  # of losses, the share by recycling rather than release
FALLBACK_REASONS = ["no_need", "no_budget", "unreachable", "competitor", "other"]


def seed_pool_history(ctx: SeedContext) -> None:
    """Rules, home pools, the event log, then deadlines and priority scores (see the module)."""
    pools = list(Pool.objects.order_by("pk"))
    if not pools:
        return
    everyone_rule = _seed_rules(ctx, pools)
    reason_codes = list(ReleaseReason.objects.filter(active=True).values_list("code", flat=True))
    reasons = [code for code in reason_codes if code != "other"] or FALLBACK_REASONS
    rep_ids = list(User.objects.filter(role=Role.REP).order_by("pk").values_list("pk", flat=True))
    if not rep_ids or not Customer.objects.exists():
        return
    actor = ctx.admin_id or User.objects.filter(role=Role.ADMIN).values_list("pk", flat=True).first()
    region_pools = ctx.pool_for_region or {
        region: next(p.pk for p in pools if p.is_default) for region in _regions()
    }
    started = time.monotonic()
    if connection.vendor == "postgresql":
        with _indexes_dropped(ctx, PoolEvent._meta.db_table):
            events = _events_sql(
                region_pools=region_pools,
                rule_for_pool=everyone_rule,
                reasons=reasons,
                rep_ids=rep_ids,
                admin_id=actor,
            )
    else:
        events = _events_python(
            region_pools=region_pools,
            rule_for_pool=everyone_rule,
            reasons=reasons,
            rep_ids=rep_ids,
            admin_id=actor,
        )
    ctx.counted("pool events", events)
    ctx.log(f"  pool events: {time.monotonic() - started:.1f} s")

    # Home pools, rules and deadlines: one UPDATE per pool (module docstring); then the
    # pooled leads' priority scores — all with the customer indexes dropped.
    with _indexes_dropped(ctx, Customer._meta.db_table):
        started = time.monotonic()
        homed = _apply_policies(region_pools=region_pools, pools=pools)
        ctx.log(f"  home pools and deadlines: {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        scored = priority.recompute_priorities(
            customers=Customer.objects.filter(pool__isnull=False), now=_moment(ctx)
        )
        ctx.log(f"  priority scores: {time.monotonic() - started:.1f} s")
    ctx.counted("customers with a home pool", homed)
    ctx.counted("pooled leads scored", scored)


def _apply_policies(*, region_pools: dict[str, int], pools: list[Pool]) -> int:
    """Set ``home_pool``, the matching rule's columns and ``recycle_due_at`` of every owned customer.

    The generic ``policies.refresh_recycle_policies`` matches rules with correlated subqueries
    per column: ~0.3 ms a row, four minutes at a million. The seed knows its rules — the
    A-level one matches ``level = 'A'``, "Everyone" the rest — so each statement writes the
    rule's values as constants (a ``CASE`` on the level) and the deadline comes from the very
    expression ``customers.services`` uses (``recycle_due_at_expression``), so it is exactly
    what the services would compute. Customers taken from a pool get their region's pool as
    home; those their rep entered keep none and follow the default pool's rules.
    """
    rules: dict[int, dict[str, RecycleRule]] = {}
    for rule in RecycleRule.objects.filter(pool__in=pools, enabled=True):
        rules.setdefault(rule.pool_id, {})["A" if rule.level == Level.A else ""] = rule
    default_pool = next((p.pk for p in pools if p.is_default), pools[0].pk)
    owned = Customer.objects.filter(owner__isnull=False)
    regions_of: dict[int, list[str]] = {}
    for region, pool_id in region_pools.items():
        regions_of.setdefault(pool_id, []).append(region)
    scopes = [
        (pool_id, owned.filter(claimed_at__gt=F("created_at"), region__in=regions))
        for pool_id, regions in regions_of.items()
    ]
    homed = 0
    for pool_id, scope in scopes:
        homed += scope.update(home_pool_id=pool_id, **_policy_values(rules[pool_id]))
    never_pooled = owned.exclude(claimed_at__gt=F("created_at"), region__in=list(region_pools))
    never_pooled.update(**_policy_values(rules[default_pool]))
    return homed


def _policy_values(rules: dict[str, RecycleRule]) -> dict[str, object]:
    a_rule, everyone = rules["A"], rules[""]

    def pick(attribute: str, output: models.Field) -> Case:
        return Case(
            When(level=Level.A, then=Value(getattr(a_rule, attribute))),
            default=Value(getattr(everyone, attribute)),
            output_field=output,
        )

    values = {
        "recycle_rule_id": pick("pk", models.BigIntegerField()),
        "recycle_idle_days": pick("no_followup_days", models.IntegerField()),
        "recycle_deal_days": pick("no_deal_days", models.IntegerField()),
        "recycle_exempt_stage": pick("exempt_open_deal_from_stage", models.CharField()),
    }
    values["recycle_due_at"] = customer_services.recycle_due_at_expression(
        rule_id=values["recycle_rule_id"],
        idle_days=values["recycle_idle_days"],
        deal_days=values["recycle_deal_days"],
        exempt_stage=values["recycle_exempt_stage"],
    )
    values["recycle_policy_stale"] = False
    return values


@contextmanager
def _indexes_dropped(ctx: SeedContext, table: str) -> Iterator[None]:
    """Drop ``table``'s secondary indexes and foreign keys around bulk writes, then rebuild them.

    Each customer row carries ~20 indexes (trigram, lists, pool, deadlines): updating 880,000
    rows with them in place costs ~0.13 ms a row (two minutes), against a fresh build of each
    index afterwards; 1.4 M events inserted with 8 indexes and four deferred foreign-key checks
    a row cost over a minute. On PostgreSQL only (the writer's catalogue-driven drop-and-rebuild,
    keys validated by one join each).
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


def _regions() -> list[str]:
    return list(Customer.objects.order_by().values_list("region", flat=True).distinct())


def _moment(ctx: SeedContext):
    from customers.demo.writers import datetime_of

    return datetime_of(ctx.now)


def _seed_rules(ctx: SeedContext, pools: list[Pool]) -> dict[int, int]:
    """Two rules per pool (module docstring); returns pool id -> its "Everyone" rule id."""
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
    return dict(RecycleRule.objects.filter(name=RULES[-1][0], pool__in=pools).values_list("pool_id", "pk"))


# --- PostgreSQL: set-based ------------------------------------------------------------------

_COLUMNS = "customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id, reason, note, rule_id, override, at"

# Customers with the pool they belong to (pooled: their pool; owned: their region's pool), the
# rep who worked a pooled one, and the moments of an owned one's earlier round.
_BASE = """
WITH region_pool(region, pool_id) AS (SELECT * FROM unnest(%(regions)s::text[], %(region_pools)s::int[])),
rule_of(pool_id, rule_id) AS (SELECT * FROM unnest(%(rule_pools)s::int[], %(rule_ids)s::int[])),
base AS (
    SELECT c.id, c.owner_id, c.created_at, c.claimed_at, c.pooled_at,
           CASE WHEN c.source = 'import' THEN 'import' ELSE 'create' END AS entry_kind,
           COALESCE(c.pool_id, rp.pool_id) AS pool_id,
           ro.rule_id,
           (%(reps)s::int[])[1 + (c.id * 7 + 3) %% cardinality(%(reps)s::int[])] AS other_rep,
           (%(reasons)s::text[])[1 + (c.id / 10) %% cardinality(%(reasons)s::text[])] AS reason,
           c.id %% 10 < %(recycled)s AS recycled
    FROM customers_customer c
    JOIN region_pool rp ON rp.region = c.region
    LEFT JOIN rule_of ro ON ro.pool_id = COALESCE(c.pool_id, rp.pool_id)
    WHERE {where}
)
"""

_LOSS = """
    CASE WHEN b.recycled THEN 'recycle' ELSE 'release' END, NULL::bigint, {owner}, NULL::bigint, NULL::bigint, b.pool_id,
    CASE WHEN b.recycled THEN 'no_followup' ELSE b.reason END, '', CASE WHEN b.recycled THEN b.rule_id END, false
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
            SELECT b.*, COALESCE(
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
) -> int:
    params = {
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
            home = pool_id or region_pools.get(region)
            if home is None:
                continue
            entry = "import" if source == "import" else "create"
            other = rep_ids[(pk * 7 + 3) % len(rep_ids)]
            reason = reasons[(pk // 10) % len(reasons)]
            recycled = pk % 10 < RECYCLED_PER_TEN

            def loss(
                rep: int, at, customer: int = pk, pool: int = home, why: str = reason, rec: bool = recycled
            ):
                return PoolEvent(
                    customer_id=customer,
                    kind="recycle" if rec else "release",
                    from_owner_id=rep,
                    to_pool_id=pool,
                    reason="no_followup" if rec else why,
                    rule_id=rule_for_pool.get(pool) if rec else None,
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
                    worker = first_worker.get(pk, other)
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

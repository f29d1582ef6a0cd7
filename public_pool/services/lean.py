"""The hot ownership paths (claim, claim next best, release, assign) in as few statements as
PostgreSQL needs (issue 12).

Each function here is the *fast path* of its service in ``services.claims``: it tries the
change in one data-modifying statement and answers the changed customer, or ``None`` when it
refused — customer or pool not found, not a member, in cooldown, limits reached, taken
meanwhile, a reason missing — and changed nothing. On ``None`` the service runs its checked
path (the original code), which re-reads the state and raises the exact error (or, if the
state changed back meanwhile, makes the change itself). Refusals therefore cost more
statements than successes; successes are what a busy deployment pays for.

What one successful request costs (token authentication included; BEGIN and COMMIT counted):

==================  ===========  ===========  ========================================
                    limits off   limits on    statements
==================  ===========  ===========  ========================================
claim               2            6            auth, claim (+ BEGIN, lock, claim again, COMMIT)
claim next best     2            6            the same
release             5            5            auth, BEGIN, read, release, COMMIT
assign              5            5            auth, BEGIN, lock rep, assign, COMMIT
==================  ===========  ===========  ========================================

How each guarantee of the checked path is kept:

- **One winner.** The UPDATE matches only while the row is still pooled in that pool
  (``owner_id IS NULL AND pool_id = …``; release: ``owner_id = <owner read>``). PostgreSQL
  re-checks that condition on the newest row version when two meet (READ COMMITTED), so of
  racing takers exactly one updates it; the event is inserted from the UPDATE's ``RETURNING``
  in the same statement, so there is one event per row moved and none for a loser.
- **Limits.** The first attempt only succeeds in a pool without limits (the condition is part
  of the statement). For a pool with limits the rep's user row is locked first
  (``FOR NO KEY UPDATE``, as ``_common.lock_reps``) and the statement runs again with the
  held and today's counts in it: the lock is a statement of its own, so the counting
  statement's snapshot sees everything the rep's previous claims committed.
- **Membership, cooldown, visibility**: the same conditions as ``selectors.pools_for_user``,
  ``selectors.in_cooldown`` and ``customers_visible_to``, spelled in SQL per role.
- **The recycle rule and deadline** are matched and computed in the statement: the first
  enabled rule of the pool (``priority, id``) whose team, level, value tier, source and tag
  select the customer; the deadline at the moment of taking is
  ``least(max(last follow-up, now) + idle days, now + deal days)``, null when the customer
  is protected or has an open deal at the rule's exempt stage or further. This is
  ``policies.take_policy`` in SQL; ``tests/public_pool/test_lean.py`` checks both agree.
- **The release's priority score** is ``priority.priority_expression`` of the target pool's
  weights, compiled by Django's own UPDATE compiler into the statement.

The claims run their first statement in autocommit when no transaction is open (the service
opens none for them): a single statement is atomic by itself, so a successful claim in a pool
without limits is the token's look-up and that statement, with no BEGIN and no COMMIT. The
limited retry (lock, then count and take) runs in a transaction of its own.

The two claims' statements run inside the PL/pgSQL functions ``crm_claim`` and
``crm_claim_next`` (migration ``public_pool.0014``), so that each server connection plans them
once, also behind PgBouncer (see ``claim_functions_sql``).

PostgreSQL only (``UPDATE`` in a ``WITH``); elsewhere every function answers ``None`` and the
checked path does the work. No savepoints: release and assign run in their callers' transaction.
"""

# ruff: noqa: S608 -- the SQL is assembled from this module's constants; every value is a parameter

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from customers.models import Customer, DealStage, Role, User
from customers.services import stages_at_or_past
from public_pool.models import LOSS_KINDS, TAKE_KINDS, Pool, PriorityWeights
from public_pool.selectors import local_midnight
from public_pool.services.priority import priority_expression

# The columns every fast path answers: enough for the slim response (``api.claims``) and for
# ``customers.services.recycle_trigger``; anything else of the instance loads on access.
_WANTED = {
    "id",
    "name",
    "owner_id",
    "team_id",
    "pool_id",
    "home_pool_id",
    "claimed_at",
    "created_at",
    "updated_at",
    "last_followup_at",
    "recycle_due_at",
    "recycle_rule_id",
    "recycle_idle_days",
    "recycle_deal_days",
    "recycle_extension_days",
}
# In the model's field order, which ``Model.from_db`` expects for a partial row.
RETURNED = tuple(f.attname for f in Customer._meta.concrete_fields if f.attname in _WANTED)
_RETURNING = ", ".join(f"cu.{name}" for name in RETURNED)
_RETURNING_BARE = ", ".join(RETURNED)


def _kinds(kinds: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{{alias}}.kind = '{kind}'" for kind in kinds) + ")"


_LOSS = _kinds([str(k) for k in LOSS_KINDS])
_TAKE = _kinds([str(k) for k in TAKE_KINDS])

# The open stages from each exempt stage on (``customers.services.stages_at_or_past``).
_EXEMPT_STAGES = (
    "CASE r.exempt_open_deal_from_stage "
    + " ".join(
        f"WHEN '{stage}' THEN ARRAY[{', '.join(repr(s) for s in stages_at_or_past(str(stage)))}]::text[]"
        for stage in DealStage.open_stages()
    )
    + " ELSE ARRAY[]::text[] END"
)


def _member(*, role: str, user: str, team: str, pool: str) -> str:
    """SQL: the user may take leads from ``pool`` (``selectors.pools_for_user`` plus, for an
    admin, ``claims._team_is_member``: a lead an admin takes lands in their own team)."""
    team_member = f"EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = {pool}.id AND pt.team_id = {team})"
    if role == "manager":
        return (
            f"({pool}.owner_id = {user} OR EXISTS (SELECT 1 FROM public_pool_pool_teams pt "
            f"WHERE pt.pool_id = {pool}.id AND (pt.team_id = {team} OR pt.team_id IN "
            f"(SELECT t.id FROM customers_team t WHERE t.manager_id = {user}))))"
        )
    return team_member  # a rep, or an admin taking for themselves


def _role(user: User) -> str:
    if user.is_admin:
        return "admin"
    return "manager" if user.role == Role.MANAGER else "rep"


def _counts(*, rep: str, pool: str, counted: str) -> str:
    """SQL columns ``held`` and ``taken_today`` (``selectors.held_from_pool``/``taken_today``),
    computed only when ``counted`` is true and the pool sets that limit. Not counted, they are
    plain nulls: PostgreSQL would plan the two subqueries on every claim even though they never
    run (planning is about half of a claim statement's cost)."""
    if counted == "FALSE":
        return "NULL::bigint AS held, NULL::bigint AS taken_today"
    return (
        f"CASE WHEN {counted} AND {pool}.max_held_per_rep IS NOT NULL THEN (SELECT count(*) "
        f"FROM customers_customer h WHERE h.owner_id = {rep} AND h.home_pool_id = {pool}.id) END AS held, "
        f"CASE WHEN {counted} AND {pool}.max_claims_per_day IS NOT NULL THEN (SELECT count(*) "
        f"FROM public_pool_poolevent t WHERE {_TAKE.format(alias='t')} AND t.to_owner_id = {rep} "
        f"AND t.from_pool_id = {pool}.id AND t.at >= %(midnight)s) END AS taken_today"
    )


_ROOM = (
    "(x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) "
    "AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)"
)

# The first enabled rule of the lead's pool that selects it (``policies._matching_rules``),
# with the deadline at the moment of taking (``policies.take_policy``). ``src`` is a CTE with
# the lead's id, pool_id, level, value_tier, source, last_followup_at and is_protected.
_RULE = f"""
r AS (
  SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
         r.exempt_open_deal_from_stage AS exempt_stage,
         CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                AND d.stage = ANY({_EXEMPT_STAGES})))
              THEN NULL
              ELSE LEAST(
                GREATEST(COALESCE(src.last_followup_at, %(now)s), %(now)s) + make_interval(days => r.no_followup_days),
                %(now)s + make_interval(days => r.no_deal_days))
         END AS due_at
  FROM src, LATERAL (
    SELECT r.* FROM public_pool_recyclerule r
    WHERE r.pool_id = src.pool_id AND r.enabled
      AND (r.team_id IS NULL OR r.team_id = %(team)s)
      AND (r.level = '' OR r.level = src.level)
      AND (r.value_tier = '' OR r.value_tier = src.value_tier)
      AND (r.source = '' OR r.source = src.source)
      AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                      WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
    ORDER BY r.priority, r.id LIMIT 1
  ) r
)"""

# Hand ``src``'s lead to %(rep)s with the matched rule (``_common.owned_state``), one event.
_TAKE_AND_LOG = """
upd AS (
  UPDATE customers_customer cu SET
    owner_id = %(rep)s, team_id = %(team)s, pool_id = NULL, home_pool_id = src.pool_id,
    claimed_at = %(now)s, pooled_at = NULL, updated_at = %(now)s, recycle_extension_days = 0,
    recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
    recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
    recycle_policy_stale = FALSE, recycle_due_at = r.due_at
  FROM src LEFT JOIN r ON r.customer_id = src.id
  WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
  RETURNING {returning}
),
ev AS (
  INSERT INTO public_pool_poolevent
    (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
     reason, note, rule_id, override, at)
  SELECT upd.id, %(kind)s, %(actor)s, NULL, %(rep)s, upd.home_pool_id, NULL,
         '', %(note)s, NULL, {override}, %(now)s
  FROM upd {override_join}
)"""

_CLAIM_SQL = """
WITH x AS (
  SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
         p.max_held_per_rep, p.max_claims_per_day,
         {member} AS member,
         CASE WHEN p.cooldown_days > 0 THEN (
           SELECT max(e.at) FROM public_pool_poolevent e
           WHERE e.customer_id = cu.id AND e.from_owner_id = %(rep)s AND {loss}
             AND e.at > %(now)s - make_interval(days => p.cooldown_days)) END AS lost_at,
         {counts}
  FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
  WHERE cu.id = %(customer)s
),
src AS (SELECT x.* FROM x WHERE x.member AND x.lost_at IS NULL AND {room}),
{rule},
{take}
SELECT x.member, x.lost_at, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
FROM x LEFT JOIN upd ON TRUE
"""

_CLAIM_NEXT_SQL = """
WITH x AS (
  SELECT p.id, p.max_held_per_rep, p.max_claims_per_day, p.cooldown_days,
         {member} AS member, {counts}
  FROM public_pool_pool p WHERE p.id = %(pool)s
),
ok AS (SELECT x.* FROM x WHERE x.member AND {room}),
src AS (
  SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected
  FROM customers_customer cu
  WHERE cu.pool_id = %(pool)s AND EXISTS (SELECT 1 FROM ok)
    AND NOT EXISTS (
      SELECT 1 FROM ok, public_pool_poolevent e
      WHERE ok.cooldown_days > 0 AND e.customer_id = cu.id AND e.from_owner_id = %(rep)s AND {loss}
        AND e.at > %(now)s - make_interval(days => ok.cooldown_days))
  ORDER BY cu.priority_score DESC, cu.id
  LIMIT 1
  FOR UPDATE OF cu SKIP LOCKED
),
{rule},
{take}
SELECT x.member, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
FROM x LEFT JOIN upd ON TRUE
"""

_ASSIGN_SQL = """
WITH x AS (
  SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
         p.max_held_per_rep, p.max_claims_per_day,
         {actor_may_use} AS actor_ok, {member} AS member, {counts}
  FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
  WHERE cu.id = %(customer)s
),
y AS (SELECT x.*, ({room}) AS room_ok FROM x),
src AS (
  SELECT y.* FROM y
  WHERE y.actor_ok AND (y.member OR %(may_override_membership)s) AND (%(override)s OR y.room_ok)
),
{rule},
{take}
SELECT upd.* FROM upd
"""

_LOCK_USER = "SELECT 1 FROM customers_user WHERE id = %s FOR NO KEY UPDATE"


def _enabled() -> bool:
    return connection.vendor == "postgresql"


def _customer(values: Sequence[Any]) -> Customer:
    """A Customer of the returned columns; the others load on first access (deferred)."""
    return Customer.from_db(connection.alias, list(RETURNED), list(values))


def _run(sql: str, params: dict[str, Any] | list[Any]) -> tuple[list[str], tuple[Any, ...] | None]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [column.name for column in cursor.description or []]
    return names, row


def _split(names: list[str], row: tuple[Any, ...] | None) -> tuple[dict[str, Any], Customer | None]:
    """(the checks before ``upd.*``, the customer if the update happened)."""
    if row is None:
        return {}, None
    start = len(names) - len(RETURNED)
    checks = dict(zip(names[:start], row[:start], strict=True))
    taken = row[start:]
    return checks, (_customer(taken) if taken[0] is not None else None)


def _take_params(*, rep: User, actor: User, now: datetime, kind: str, note: str = "") -> dict[str, Any]:
    return {
        "rep": rep.pk,
        "team": rep.team_id,
        "actor": actor.pk,
        "now": now,
        "midnight": local_midnight(now),
        "kind": kind,
        "note": note,
    }


def _claim_sql(template: str, rep: User, counted: bool) -> str:
    return template.format(
        member=_member(role=_role(rep), user="%(rep)s", team="%(team)s", pool="p"),
        counts=_counts(rep="%(rep)s", pool="p", counted="TRUE" if counted else "FALSE"),
        loss=_LOSS.format(alias="e"),
        room=_ROOM,
        rule=_RULE,
        take=_TAKE_AND_LOG.format(returning=_RETURNING, override="FALSE", override_join=""),
    )


def _needs_counting(checks: dict[str, Any]) -> bool:
    """The lead (or pool) was refused only because its pool has limits and nothing was counted."""
    return (
        bool(checks.get("member"))
        and checks.get("lost_at") is None
        and (checks["max_held_per_rep"] is not None or checks["max_claims_per_day"] is not None)
        and checks["held"] is None
        and checks["taken_today"] is None
    )


# The two claims run as PL/pgSQL functions (migration ``public_pool.0014``): PostgreSQL
# planned the statement afresh on every claim (about 0.7 ms of its ≈ 2.8 ms of CPU per
# claim), while a PL/pgSQL function keeps the plan of each statement it runs for the life of
# the server connection. Unlike a prepared statement (SQL ``PREPARE``), that works behind
# PgBouncer's transaction pooling: the plan belongs to whichever server connection runs the
# call, and each prepares its own on first use. ``plan_cache_mode = force_generic_plan`` keeps
# the cached plan from being re-planned for each call's values (PostgreSQL would otherwise
# plan the first five calls of each connection per value and keep comparing). The function's
# body is ``_CLAIM_SQL`` / ``_CLAIM_NEXT_SQL`` with the values as the function's arguments, one
# branch per role form of the membership test and per counted/not counted;
# ``claim_functions_sql`` writes it and ``tests/public_pool/test_lean.py`` checks that the
# migration installs exactly what it writes today (change the SQL here → a new migration).
_FUNCTION_VALUES = {
    "rep": "p_rep",
    "actor": "p_rep",
    "team": "p_team",
    "now": "p_now",
    "midnight": "p_midnight",
    "kind": "'claim'",
    "note": "''",
    "customer": "p_target",
    "pool": "p_target",
}
_CLAIM_FUNCTIONS = {"crm_claim": _CLAIM_SQL, "crm_claim_next": _CLAIM_NEXT_SQL}
_CALL = (
    "SELECT * FROM {function}(%(target)s, %(rep)s, %(team)s, %(now)s, %(midnight)s, %(manager)s, %(counted)s)"
)
_BIGINT_MAX = 2**63 - 1


def _function_body(template: str) -> str:
    branches = {}
    for role in ("manager", "rep"):
        for counted in (True, False):
            statement = _claim_sql(template, User(role=role), counted=counted) % _FUNCTION_VALUES
            statement = "\n".join("      " + line for line in statement.strip().splitlines())
            branches[role, counted] = f"    RETURN QUERY\n{statement};"
    return (
        "\n#variable_conflict use_column\nBEGIN\n"
        "  IF p_manager THEN\n"
        f"    IF p_counted THEN\n{branches['manager', True]}\n"
        f"    ELSE\n{branches['manager', False]}\n    END IF;\n"
        "  ELSE\n"
        f"    IF p_counted THEN\n{branches['rep', True]}\n"
        f"    ELSE\n{branches['rep', False]}\n    END IF;\n"
        "  END IF;\n"
        "END\n"
    )


def claim_functions_sql() -> str:
    """``CREATE FUNCTION crm_claim … / crm_claim_next …``: what migration ``public_pool.0014``
    installs (its text is kept there as written then; the test compares)."""
    pool_limit = Pool._meta.get_field("max_held_per_rep").db_type(connection)
    types = {field.attname: field.db_type(connection) for field in Customer._meta.concrete_fields}
    returned = ", ".join(f"{name} {types[name]}" for name in RETURNED)
    statements = []
    for function, template in _CLAIM_FUNCTIONS.items():
        checks = "member boolean, " + (
            "lost_at timestamp with time zone, " if function == "crm_claim" else ""
        )
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}(p_target bigint, p_rep bigint, p_team bigint, "
            "p_now timestamp with time zone, p_midnight timestamp with time zone, p_manager boolean, "
            "p_counted boolean)\n"
            f"RETURNS TABLE ({checks}max_held_per_rep {pool_limit}, max_claims_per_day {pool_limit}, "
            f"held bigint, taken_today bigint, {returned})\n"
            "LANGUAGE plpgsql VOLATILE\n"
            "SET plan_cache_mode = force_generic_plan\n"
            f"AS $$\n{_function_body(template)}$$;\n"
        )
    return "\n".join(statements)


def _claim_with(
    function: str, *, rep: User, params: dict[str, Any]
) -> tuple[dict[str, Any], Customer | None]:
    # One statement, atomic by itself: outside a caller's transaction it commits on its own
    # (autocommit), which spares BEGIN and COMMIT, two round trips of every claim.
    call = _CALL.format(function=function)
    params = params | {"manager": _role(rep) == "manager", "counted": False}  # the caller's stays as it was
    checks, taken = _split(*_run(call, params))
    if taken is None and checks and _needs_counting(checks):
        with transaction.atomic():  # the lock must hold until the counting statement commits
            _run(_LOCK_USER, [rep.pk])
            checks, taken = _split(*_run(call, params | {"counted": True}))
    return checks, taken


def claim(*, rep: User, customer_id: int) -> Customer | None:
    """``services.claim_customer``'s fast path (it needs no transaction of the caller's: see
    ``_claim_with``)."""
    if not _enabled() or not 0 < customer_id <= _BIGINT_MAX:
        return None
    params = _take_params(rep=rep, actor=rep, now=timezone.now(), kind="claim") | {"target": customer_id}
    _checks, taken = _claim_with("crm_claim", rep=rep, params=params)
    return taken


def claim_next(*, rep: User, pool_id: int) -> tuple[Customer | None, bool]:
    """``services.claim_next_best``'s fast path: (the lead taken, whether the refusal was only
    that no lead is left for the rep — the caller answers ``PoolEmpty`` without re-checking)."""
    if not _enabled() or not 0 < pool_id <= _BIGINT_MAX:
        return None, False
    params = _take_params(rep=rep, actor=rep, now=timezone.now(), kind="claim") | {"target": pool_id}
    checks, taken = _claim_with("crm_claim_next", rep=rep, params=params)
    if taken is not None or not checks or not checks["member"]:
        return taken, False
    room = (checks["max_held_per_rep"] is None or (checks["held"] or 0) < checks["max_held_per_rep"]) and (
        checks["max_claims_per_day"] is None or (checks["taken_today"] or 0) < checks["max_claims_per_day"]
    )
    return None, room


_ASSIGN_REP_SQL = """
SELECT u.team_id, u.role, u.is_superuser, u.is_active,
       EXISTS (SELECT 1 FROM customers_team t WHERE t.id = u.team_id AND t.manager_id = %s) AS managed
FROM customers_user u WHERE u.id = %s FOR NO KEY UPDATE OF u
"""


def _manages(actor: User, *, rep_id: int, rep_team: int | None, managed: bool) -> bool:
    """``selectors.manages`` with the rep's team read in the same statement as its lock."""
    if actor.is_admin:
        return True
    if actor.role != Role.MANAGER:
        return False
    return actor.pk == rep_id or (rep_team is not None and (rep_team == actor.team_id or managed))


def assign(*, actor: User, customer_id: int, rep_id: int, override: bool, note: str) -> Customer | None:
    """The single-lead ``assign`` endpoint's fast path (the view's visibility check, the rep
    lookup and ``services.assign_customer`` in two statements); call inside a transaction.

    The rep's row is locked first (as ``assign_customers`` does), which also reads what
    ``manages`` needs; the statement then checks that the actor may use the lead's pool (what
    makes a pooled lead visible), that the rep's team is a member (or, for an admin with
    ``override``, that the rep has a team), and the limits unless ``override``; the event
    records ``override`` where it was actually used.
    """
    if not _enabled():
        return None
    _names, row = _run(_ASSIGN_REP_SQL, [actor.pk, rep_id])
    if row is None:
        return None
    rep_team, rep_role, rep_superuser, rep_active, managed = row
    if not rep_active or not _manages(actor, rep_id=rep_id, rep_team=rep_team, managed=managed):
        return None
    rep = User(pk=rep_id, team_id=rep_team, role=rep_role, is_superuser=rep_superuser)
    actor_role = _role(actor)
    sql = _ASSIGN_SQL.format(
        actor_may_use="TRUE"
        if actor_role == "admin"
        else _member(role=actor_role, user="%(actor)s", team="%(actor_team)s", pool="p"),
        member=_member(role=_role(rep), user="%(rep)s", team="%(team)s", pool="p"),
        counts=_counts(rep="%(rep)s", pool="p", counted="TRUE"),
        room=_ROOM,
        rule=_RULE,
        take=_TAKE_AND_LOG.format(
            returning=_RETURNING,
            override="%(override)s AND NOT (src.member AND src.room_ok)",
            override_join="JOIN src ON src.id = upd.id",
        ),
    )
    params = _take_params(rep=rep, actor=actor, now=timezone.now(), kind="assign", note=note.strip()) | {
        "customer": customer_id,
        "actor_team": actor.team_id,
        "override": override,
        "may_override_membership": override and actor.is_admin and rep_team is not None,
    }
    _names, taken_row = _run(sql, params)
    return None if taken_row is None else _customer(taken_row)


_RELEASE_READ_SQL = """
SELECT cu.owner_id, cu.team_id, o.team_id AS owner_team,
       EXISTS (SELECT 1 FROM customers_team t WHERE t.id = o.team_id AND t.manager_id = %(actor)s) AS owner_managed,
       EXISTS (SELECT 1 FROM customers_team t WHERE t.id = cu.team_id AND t.manager_id = %(actor)s) AS team_managed,
       rr.requires_note, tp.id AS target, {target_ok} AS target_ok,
       w.pool_id IS NOT NULL AS weighted, {weights}
FROM customers_customer cu
JOIN customers_user o ON o.id = cu.owner_id
LEFT JOIN public_pool_releasereason rr ON rr.code = %(code)s AND rr.active
LEFT JOIN public_pool_pool tp ON tp.id = COALESCE(%(pool)s, cu.home_pool_id,
  (SELECT d.id FROM public_pool_pool d WHERE d.is_default ORDER BY d.id LIMIT 1))
LEFT JOIN public_pool_priorityweights w ON w.pool_id = tp.id
WHERE cu.id = %(customer)s
"""

_WEIGHT_FIELDS = [f.attname for f in PriorityWeights._meta.concrete_fields if f.attname != "pool_id"]

_RELEASE_SQL = """
WITH upd AS (
  UPDATE customers_customer SET
    owner_id = NULL, team_id = NULL, pool_id = %s, home_pool_id = %s, pooled_at = %s, claimed_at = NULL,
    updated_at = %s, recycle_due_at = NULL, recycle_rule_id = NULL, recycle_idle_days = NULL,
    recycle_deal_days = NULL, recycle_exempt_stage = '', recycle_extension_days = 0,
    recycle_policy_stale = FALSE, priority_score = {priority}
  WHERE id = %s AND owner_id = %s
  RETURNING {returning}
),
ev AS (
  INSERT INTO public_pool_poolevent
    (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
     reason, note, rule_id, override, at)
  SELECT upd.id, 'release', %s, %s, NULL, NULL, %s, %s, %s, NULL, FALSE, %s FROM upd
)
SELECT * FROM upd
"""


def _compiled(expression: Any) -> tuple[str, list[Any]]:
    """An expression over the customer row as Django's UPDATE compiler spells it."""
    query = UpdateQuery(Customer)
    compiler = query.get_compiler(connection=connection)
    resolved = expression.resolve_expression(query, allow_joins=False, for_save=True)
    sql, params = compiler.compile(resolved)
    return sql, list(params)


def release(*, actor: User, customer_id: int, reason: str, note: str, pool_id: int | None) -> Customer | None:
    """``services.release_customer``'s fast path (with the view's visibility check); call
    inside a transaction. One read (the customer, its owner's team, the reason, the target
    pool and its priority weights), then the conditional UPDATE with its event."""
    if not _enabled():
        return None
    code, note = reason.strip(), note.strip()
    if not code:
        return None
    actor_role = _role(actor)
    target_ok = (
        "TRUE"
        if actor_role == "admin"
        else _member(role=actor_role, user="%(actor)s", team="%(team)s", pool="tp")
    )
    sql = _RELEASE_READ_SQL.format(
        target_ok=target_ok, weights=", ".join(f"w.{name} AS w_{name}" for name in _WEIGHT_FIELDS)
    )
    names, row = _run(
        sql,
        {"actor": actor.pk, "team": actor.team_id, "code": code, "pool": pool_id, "customer": customer_id},
    )
    if row is None:
        return None
    read = dict(zip(names, row, strict=True))
    if read["requires_note"] is None or (read["requires_note"] and not note) or read["target"] is None:
        return None
    if pool_id is not None and not read["target_ok"]:
        return None
    owner_id = read["owner_id"]
    if actor_role == "admin":
        allowed = True
    elif actor_role == "manager":
        visible = (
            read["team_id"] is not None and (read["team_id"] == actor.team_id or read["team_managed"])
        ) or (actor.team_id is None and owner_id == actor.pk)
        manages = owner_id == actor.pk or (
            read["owner_team"] is not None and (read["owner_team"] == actor.team_id or read["owner_managed"])
        )
        allowed = visible and manages
    else:
        allowed = owner_id == actor.pk
    if not allowed:
        return None
    target = read["target"]
    weights = PriorityWeights(pool_id=target)
    if read["weighted"]:
        for name in _WEIGHT_FIELDS:
            field = PriorityWeights._meta.get_field(name)
            value = read[f"w_{name}"]
            if hasattr(field, "from_db_value"):  # JSON comes back as text from a raw cursor
                value = field.from_db_value(value, None, connection)
            setattr(weights, name, value)
    now = timezone.now()
    priority_sql, priority_params = _compiled(priority_expression(weights, now))
    release_sql = _RELEASE_SQL.format(priority=priority_sql, returning=_RETURNING_BARE)
    params = [
        target,
        target,
        now,
        now,
        *priority_params,
        customer_id,
        owner_id,
        actor.pk,
        owner_id,
        target,
        code,
        note,
        now,
    ]
    _names, released = _run(release_sql, params)
    return None if released is None else _customer(released)

from django.db import migrations

from crm_site.migration_ops import RunSQLOnPostgres

# The two claims' statements as PL/pgSQL functions, so that each server connection plans them
# once (see ``public_pool.services.lean``). The text is what ``lean.claim_functions_sql()``
# wrote on 2026-12-06; tests/public_pool/test_lean.py checks that it still does.
CLAIM_FUNCTIONS = """
CREATE OR REPLACE FUNCTION crm_claim(p_target bigint, p_rep bigint, p_team bigint, p_now timestamp with time zone, p_midnight timestamp with time zone, p_manager boolean, p_counted boolean)
RETURNS TABLE (member boolean, lost_at timestamp with time zone, max_held_per_rep integer, max_claims_per_day integer, held bigint, taken_today bigint, id bigint, name varchar(200), owner_id bigint, team_id bigint, pool_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone, last_followup_at timestamp with time zone, claimed_at timestamp with time zone, recycle_due_at timestamp with time zone, home_pool_id bigint, recycle_rule_id bigint, recycle_idle_days integer, recycle_deal_days integer, recycle_extension_days integer)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$

#variable_conflict use_column
BEGIN
  IF p_manager THEN
    IF p_counted THEN
    RETURN QUERY
      WITH x AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
               p.max_held_per_rep, p.max_claims_per_day,
               (p.owner_id = p_rep OR EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND (pt.team_id = p_team OR pt.team_id IN (SELECT t.id FROM customers_team t WHERE t.manager_id = p_rep)))) AS member,
               CASE WHEN p.cooldown_days > 0 THEN (
                 SELECT max(e.at) FROM public_pool_poolevent e
                 WHERE e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
                   AND e.at > p_now - make_interval(days => p.cooldown_days)) END AS lost_at,
               CASE WHEN TRUE AND p.max_held_per_rep IS NOT NULL THEN (SELECT count(*) FROM customers_customer h WHERE h.owner_id = p_rep AND h.home_pool_id = p.id) END AS held, CASE WHEN TRUE AND p.max_claims_per_day IS NOT NULL THEN (SELECT count(*) FROM public_pool_poolevent t WHERE (t.kind = 'claim' OR t.kind = 'assign') AND t.to_owner_id = p_rep AND t.from_pool_id = p.id AND t.at >= p_midnight) END AS taken_today
        FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
        WHERE cu.id = p_target
      ),
      src AS (SELECT x.* FROM x WHERE x.member AND x.lost_at IS NULL AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.lost_at, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    ELSE
    RETURN QUERY
      WITH x AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
               p.max_held_per_rep, p.max_claims_per_day,
               (p.owner_id = p_rep OR EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND (pt.team_id = p_team OR pt.team_id IN (SELECT t.id FROM customers_team t WHERE t.manager_id = p_rep)))) AS member,
               CASE WHEN p.cooldown_days > 0 THEN (
                 SELECT max(e.at) FROM public_pool_poolevent e
                 WHERE e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
                   AND e.at > p_now - make_interval(days => p.cooldown_days)) END AS lost_at,
               NULL::bigint AS held, NULL::bigint AS taken_today
        FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
        WHERE cu.id = p_target
      ),
      src AS (SELECT x.* FROM x WHERE x.member AND x.lost_at IS NULL AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.lost_at, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    END IF;
  ELSE
    IF p_counted THEN
    RETURN QUERY
      WITH x AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
               p.max_held_per_rep, p.max_claims_per_day,
               EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND pt.team_id = p_team) AS member,
               CASE WHEN p.cooldown_days > 0 THEN (
                 SELECT max(e.at) FROM public_pool_poolevent e
                 WHERE e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
                   AND e.at > p_now - make_interval(days => p.cooldown_days)) END AS lost_at,
               CASE WHEN TRUE AND p.max_held_per_rep IS NOT NULL THEN (SELECT count(*) FROM customers_customer h WHERE h.owner_id = p_rep AND h.home_pool_id = p.id) END AS held, CASE WHEN TRUE AND p.max_claims_per_day IS NOT NULL THEN (SELECT count(*) FROM public_pool_poolevent t WHERE (t.kind = 'claim' OR t.kind = 'assign') AND t.to_owner_id = p_rep AND t.from_pool_id = p.id AND t.at >= p_midnight) END AS taken_today
        FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
        WHERE cu.id = p_target
      ),
      src AS (SELECT x.* FROM x WHERE x.member AND x.lost_at IS NULL AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.lost_at, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    ELSE
    RETURN QUERY
      WITH x AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected,
               p.max_held_per_rep, p.max_claims_per_day,
               EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND pt.team_id = p_team) AS member,
               CASE WHEN p.cooldown_days > 0 THEN (
                 SELECT max(e.at) FROM public_pool_poolevent e
                 WHERE e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
                   AND e.at > p_now - make_interval(days => p.cooldown_days)) END AS lost_at,
               NULL::bigint AS held, NULL::bigint AS taken_today
        FROM customers_customer cu JOIN public_pool_pool p ON p.id = cu.pool_id
        WHERE cu.id = p_target
      ),
      src AS (SELECT x.* FROM x WHERE x.member AND x.lost_at IS NULL AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.lost_at, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    END IF;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION crm_claim_next(p_target bigint, p_rep bigint, p_team bigint, p_now timestamp with time zone, p_midnight timestamp with time zone, p_manager boolean, p_counted boolean)
RETURNS TABLE (member boolean, max_held_per_rep integer, max_claims_per_day integer, held bigint, taken_today bigint, id bigint, name varchar(200), owner_id bigint, team_id bigint, pool_id bigint, created_at timestamp with time zone, updated_at timestamp with time zone, last_followup_at timestamp with time zone, claimed_at timestamp with time zone, recycle_due_at timestamp with time zone, home_pool_id bigint, recycle_rule_id bigint, recycle_idle_days integer, recycle_deal_days integer, recycle_extension_days integer)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$

#variable_conflict use_column
BEGIN
  IF p_manager THEN
    IF p_counted THEN
    RETURN QUERY
      WITH x AS (
        SELECT p.id, p.max_held_per_rep, p.max_claims_per_day, p.cooldown_days,
               (p.owner_id = p_rep OR EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND (pt.team_id = p_team OR pt.team_id IN (SELECT t.id FROM customers_team t WHERE t.manager_id = p_rep)))) AS member, CASE WHEN TRUE AND p.max_held_per_rep IS NOT NULL THEN (SELECT count(*) FROM customers_customer h WHERE h.owner_id = p_rep AND h.home_pool_id = p.id) END AS held, CASE WHEN TRUE AND p.max_claims_per_day IS NOT NULL THEN (SELECT count(*) FROM public_pool_poolevent t WHERE (t.kind = 'claim' OR t.kind = 'assign') AND t.to_owner_id = p_rep AND t.from_pool_id = p.id AND t.at >= p_midnight) END AS taken_today
        FROM public_pool_pool p WHERE p.id = p_target
      ),
      ok AS (SELECT x.* FROM x WHERE x.member AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      src AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected
        FROM customers_customer cu
        WHERE cu.pool_id = p_target AND EXISTS (SELECT 1 FROM ok)
          AND NOT EXISTS (
            SELECT 1 FROM ok, public_pool_poolevent e
            WHERE ok.cooldown_days > 0 AND e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
              AND e.at > p_now - make_interval(days => ok.cooldown_days))
        ORDER BY cu.priority_score DESC, cu.id
        LIMIT 1
        FOR UPDATE OF cu SKIP LOCKED
      ),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    ELSE
    RETURN QUERY
      WITH x AS (
        SELECT p.id, p.max_held_per_rep, p.max_claims_per_day, p.cooldown_days,
               (p.owner_id = p_rep OR EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND (pt.team_id = p_team OR pt.team_id IN (SELECT t.id FROM customers_team t WHERE t.manager_id = p_rep)))) AS member, NULL::bigint AS held, NULL::bigint AS taken_today
        FROM public_pool_pool p WHERE p.id = p_target
      ),
      ok AS (SELECT x.* FROM x WHERE x.member AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      src AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected
        FROM customers_customer cu
        WHERE cu.pool_id = p_target AND EXISTS (SELECT 1 FROM ok)
          AND NOT EXISTS (
            SELECT 1 FROM ok, public_pool_poolevent e
            WHERE ok.cooldown_days > 0 AND e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
              AND e.at > p_now - make_interval(days => ok.cooldown_days))
        ORDER BY cu.priority_score DESC, cu.id
        LIMIT 1
        FOR UPDATE OF cu SKIP LOCKED
      ),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    END IF;
  ELSE
    IF p_counted THEN
    RETURN QUERY
      WITH x AS (
        SELECT p.id, p.max_held_per_rep, p.max_claims_per_day, p.cooldown_days,
               EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND pt.team_id = p_team) AS member, CASE WHEN TRUE AND p.max_held_per_rep IS NOT NULL THEN (SELECT count(*) FROM customers_customer h WHERE h.owner_id = p_rep AND h.home_pool_id = p.id) END AS held, CASE WHEN TRUE AND p.max_claims_per_day IS NOT NULL THEN (SELECT count(*) FROM public_pool_poolevent t WHERE (t.kind = 'claim' OR t.kind = 'assign') AND t.to_owner_id = p_rep AND t.from_pool_id = p.id AND t.at >= p_midnight) END AS taken_today
        FROM public_pool_pool p WHERE p.id = p_target
      ),
      ok AS (SELECT x.* FROM x WHERE x.member AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      src AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected
        FROM customers_customer cu
        WHERE cu.pool_id = p_target AND EXISTS (SELECT 1 FROM ok)
          AND NOT EXISTS (
            SELECT 1 FROM ok, public_pool_poolevent e
            WHERE ok.cooldown_days > 0 AND e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
              AND e.at > p_now - make_interval(days => ok.cooldown_days))
        ORDER BY cu.priority_score DESC, cu.id
        LIMIT 1
        FOR UPDATE OF cu SKIP LOCKED
      ),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    ELSE
    RETURN QUERY
      WITH x AS (
        SELECT p.id, p.max_held_per_rep, p.max_claims_per_day, p.cooldown_days,
               EXISTS (SELECT 1 FROM public_pool_pool_teams pt WHERE pt.pool_id = p.id AND pt.team_id = p_team) AS member, NULL::bigint AS held, NULL::bigint AS taken_today
        FROM public_pool_pool p WHERE p.id = p_target
      ),
      ok AS (SELECT x.* FROM x WHERE x.member AND (x.max_held_per_rep IS NULL OR x.held < x.max_held_per_rep) AND (x.max_claims_per_day IS NULL OR x.taken_today < x.max_claims_per_day)),
      src AS (
        SELECT cu.id, cu.pool_id, cu.level, cu.value_tier, cu.source, cu.last_followup_at, cu.is_protected
        FROM customers_customer cu
        WHERE cu.pool_id = p_target AND EXISTS (SELECT 1 FROM ok)
          AND NOT EXISTS (
            SELECT 1 FROM ok, public_pool_poolevent e
            WHERE ok.cooldown_days > 0 AND e.customer_id = cu.id AND e.from_owner_id = p_rep AND (e.kind = 'release' OR e.kind = 'recycle' OR e.kind = 'move')
              AND e.at > p_now - make_interval(days => ok.cooldown_days))
        ORDER BY cu.priority_score DESC, cu.id
        LIMIT 1
        FOR UPDATE OF cu SKIP LOCKED
      ),
      
      r AS (
        SELECT src.id AS customer_id, r.id, r.no_followup_days, r.no_deal_days,
               r.exempt_open_deal_from_stage AS exempt_stage,
               CASE WHEN src.is_protected OR (r.exempt_open_deal_from_stage <> '' AND EXISTS (
                      SELECT 1 FROM customers_deal d WHERE d.customer_id = src.id
                      AND d.stage = ANY(CASE r.exempt_open_deal_from_stage WHEN 'lead' THEN ARRAY['lead', 'qualified', 'proposal', 'negotiation']::text[] WHEN 'qualified' THEN ARRAY['qualified', 'proposal', 'negotiation']::text[] WHEN 'proposal' THEN ARRAY['proposal', 'negotiation']::text[] WHEN 'negotiation' THEN ARRAY['negotiation']::text[] ELSE ARRAY[]::text[] END)))
                    THEN NULL
                    ELSE LEAST(
                      GREATEST(COALESCE(src.last_followup_at, p_now), p_now) + make_interval(days => r.no_followup_days),
                      p_now + make_interval(days => r.no_deal_days))
               END AS due_at
        FROM src, LATERAL (
          SELECT r.* FROM public_pool_recyclerule r
          WHERE r.pool_id = src.pool_id AND r.enabled
            AND (r.team_id IS NULL OR r.team_id = p_team)
            AND (r.level = '' OR r.level = src.level)
            AND (r.value_tier = '' OR r.value_tier = src.value_tier)
            AND (r.source = '' OR r.source = src.source)
            AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM customers_customer_tags ct
                                            WHERE ct.customer_id = src.id AND ct.tag_id = r.tag_id))
          ORDER BY r.priority, r.id LIMIT 1
        ) r
      ),
      
      upd AS (
        UPDATE customers_customer cu SET
          owner_id = p_rep, team_id = p_team, pool_id = NULL, home_pool_id = src.pool_id,
          claimed_at = p_now, pooled_at = NULL, updated_at = p_now, recycle_extension_days = 0,
          recycle_rule_id = r.id, recycle_idle_days = r.no_followup_days,
          recycle_deal_days = r.no_deal_days, recycle_exempt_stage = COALESCE(r.exempt_stage, ''),
          recycle_policy_stale = FALSE, recycle_due_at = r.due_at
        FROM src LEFT JOIN r ON r.customer_id = src.id
        WHERE cu.id = src.id AND cu.pool_id = src.pool_id AND cu.owner_id IS NULL
        RETURNING cu.id, cu.name, cu.owner_id, cu.team_id, cu.pool_id, cu.created_at, cu.updated_at, cu.last_followup_at, cu.claimed_at, cu.recycle_due_at, cu.home_pool_id, cu.recycle_rule_id, cu.recycle_idle_days, cu.recycle_deal_days, cu.recycle_extension_days
      ),
      ev AS (
        INSERT INTO public_pool_poolevent
          (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
           reason, note, rule_id, override, at)
        SELECT upd.id, 'claim', p_rep, NULL, p_rep, upd.home_pool_id, NULL,
               '', '', NULL, FALSE, p_now
        FROM upd 
      )
      SELECT x.member, x.max_held_per_rep, x.max_claims_per_day, x.held, x.taken_today, upd.*
      FROM x LEFT JOIN upd ON TRUE;
    END IF;
  END IF;
END
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS crm_claim(bigint, bigint, bigint, timestamp with time zone, "
    "timestamp with time zone, boolean, boolean); "
    "DROP FUNCTION IF EXISTS crm_claim_next(bigint, bigint, bigint, timestamp with time zone, "
    "timestamp with time zone, boolean, boolean)"
)


class Migration(migrations.Migration):
    """``crm_claim`` and ``crm_claim_next``: the claims' fast path (PostgreSQL only)."""

    dependencies = [("public_pool", "0013_notification_keys_checked")]

    operations = [RunSQLOnPostgres(CLAIM_FUNCTIONS, DROP)]

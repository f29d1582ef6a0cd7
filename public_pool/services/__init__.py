"""The public pool's writes. Import the package: ``from public_pool import services``.

Ownership (``claims``): :func:`claim_customer`, :func:`claim_next_best`,
:func:`release_customer`, :func:`assign_customer`, :func:`assign_customers`,
:func:`transfer_customer`, :func:`move_customer_to_pool`,
:func:`create_pooled_customer`, :func:`register_imported_customers`.
Bulk change of owner (``transfers``): :func:`transfer_customers`.
Distribution (``distribution``): :func:`distribute_pool_leads`.
Rules (``policies``): :func:`create_recycle_rule`, :func:`update_recycle_rule`,
:func:`set_recycle_rule_enabled`, :func:`delete_recycle_rule`, :func:`preview_rule`,
:func:`refresh_pool_recycle_policies`, :func:`refresh_recycle_policies`,
:func:`refresh_stale_recycle_policies`, :func:`refresh_changed_pools`.
Recycling (``recycle``): :func:`recycle_stale_customers`.
Warnings and extensions (``alerts``): :func:`warn_recycle`, :func:`request_extension`,
:func:`decide_extension`, :func:`mark_notifications_read`.
Managers' daily digest (``digests``): :func:`send_team_recycled_digests`.
Team group chats (``team_chat``): :func:`announce`, :func:`announce_where`,
:func:`post_to_team_chat`.
Priority (``priority``): :func:`recompute_priorities`, :func:`recompute_pool_priorities`,
:func:`update_priority_weights`. Pools (``pools``): :func:`create_pool`, :func:`update_pool`.
"""

from public_pool.services.alerts import (
    WarnResult,
    decide_extension,
    mark_notifications_read,
    request_extension,
    send_pending_recycle_emails,
    warn_recycle,
)
from public_pool.services.claims import (
    AssignResult,
    StateChanged,
    assign_customer,
    assign_customer_checked,
    assign_customers,
    claim_customer,
    claim_next_best,
    create_owned_customer,
    create_pooled_customer,
    move_customer_to_pool,
    register_imported_customers,
    release_customer,
    release_customer_checked,
    transfer_customer,
)
from public_pool.services.digests import send_team_recycled_digests
from public_pool.services.distribution import DistributionResult, DistributionStrategy, distribute_pool_leads
from public_pool.services.policies import (
    PreviewRow,
    RuleData,
    RuleInUse,
    RulePreview,
    create_recycle_rule,
    delete_recycle_rule,
    policy_updates,
    preview_rule,
    refresh_changed_pools,
    refresh_pool_recycle_policies,
    refresh_recycle_policies,
    refresh_stale_recycle_policies,
    set_recycle_rule_enabled,
    update_recycle_rule,
)
from public_pool.services.pools import PoolData, create_pool, update_pool
from public_pool.services.priority import (
    WeightsData,
    recompute_pool_priorities,
    recompute_priorities,
    update_priority_weights,
    weights_for,
)
from public_pool.services.recycle import (
    RecycleCandidate,
    RecycleResult,
    due_customers,
    iter_recycle_candidates,
    recycle_stale_customers,
)
from public_pool.services.team_chat import announce, announce_where, post_to_team_chat
from public_pool.services.transfers import MAX_BULK_TRANSFER, TransferResult, transfer_customers

__all__ = [
    "MAX_BULK_TRANSFER",
    "AssignResult",
    "DistributionResult",
    "DistributionStrategy",
    "PoolData",
    "PreviewRow",
    "RecycleCandidate",
    "RecycleResult",
    "RuleData",
    "RuleInUse",
    "RulePreview",
    "StateChanged",
    "TransferResult",
    "WarnResult",
    "WeightsData",
    "announce",
    "announce_where",
    "assign_customer",
    "assign_customer_checked",
    "assign_customers",
    "claim_customer",
    "claim_next_best",
    "create_owned_customer",
    "create_pool",
    "create_pooled_customer",
    "create_recycle_rule",
    "decide_extension",
    "delete_recycle_rule",
    "distribute_pool_leads",
    "due_customers",
    "iter_recycle_candidates",
    "mark_notifications_read",
    "move_customer_to_pool",
    "policy_updates",
    "post_to_team_chat",
    "preview_rule",
    "recompute_pool_priorities",
    "recompute_priorities",
    "recycle_stale_customers",
    "refresh_changed_pools",
    "refresh_pool_recycle_policies",
    "refresh_recycle_policies",
    "refresh_stale_recycle_policies",
    "register_imported_customers",
    "release_customer",
    "release_customer_checked",
    "request_extension",
    "send_pending_recycle_emails",
    "send_team_recycled_digests",
    "set_recycle_rule_enabled",
    "transfer_customer",
    "transfer_customers",
    "update_pool",
    "update_priority_weights",
    "update_recycle_rule",
    "warn_recycle",
    "weights_for",
]

"""Writes with business meaning on customer records. Import the package:
``from customers import services``.

Every service owns its transaction, checks who may do it, and keeps the stored timestamps that
KPIs and the public pool read (``last_followup_at``, ``first_won_at``, ``updated_at``) current
with conditional updates, so concurrent writers never move them backwards.

Modules: ``records`` (create/update, duplicates), ``activity`` (follow-ups, deals,
contacts, feedback), ``deadlines`` (the recycle deadline expressions), ``organisation`` (team
moves), ``tiers`` (value tiers in bulk), ``_common`` (who may act). What they raise is in ``customers.exceptions``; normalising names
and phones is ``customers.normalization``.
"""

from customers.services.activity import (
    add_contact,
    create_deal,
    log_followup,
    move_deal,
    record_feedback,
)
from customers.services.deadlines import (
    Days,
    DeadlineParts,
    days,
    deadline_parts,
    open_deal_at_or_past,
    owned_deadline,
    recycle_claim_time,
    recycle_clock_start,
    recycle_due_at_expression,
    recycle_trigger,
    refresh_recycle_due,
    stages_at_or_past,
    won_since_claim,
)
from customers.services.organisation import (
    change_user_team,
    delete_team,
    delete_user,
    save_team,
    save_user,
)
from customers.services.records import (
    CustomerData,
    create_customer,
    ensure_not_duplicate,
    update_customer,
)
from customers.services.tiers import (
    set_value_tiers,
)

__all__ = [
    "CustomerData",
    "Days",
    "DeadlineParts",
    "add_contact",
    "change_user_team",
    "create_customer",
    "create_deal",
    "days",
    "deadline_parts",
    "delete_team",
    "delete_user",
    "ensure_not_duplicate",
    "log_followup",
    "move_deal",
    "open_deal_at_or_past",
    "owned_deadline",
    "record_feedback",
    "recycle_claim_time",
    "recycle_clock_start",
    "recycle_due_at_expression",
    "recycle_trigger",
    "refresh_recycle_due",
    "save_team",
    "save_user",
    "set_value_tiers",
    "stages_at_or_past",
    "update_customer",
    "won_since_claim",
]

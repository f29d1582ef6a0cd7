"""Who may do what on a customer: shared by the customer services."""

from django.utils.translation import gettext_lazy as _

from customers.exceptions import NotAllowed
from customers.models import (
    Customer,
    Role,
    User,
)


def _may_protect(actor: User) -> bool:
    """Protection exempts a customer from recycling, so only managers and admins may set it."""
    return actor.is_admin or actor.role == Role.MANAGER


def _may_act_for(*, actor: User, rep: User) -> bool:
    if actor.is_admin:
        return True
    team = rep.team
    if actor.role == Role.MANAGER and team is not None:
        return team.manager_id == actor.pk or team.pk == actor.team_id
    return False


def _ensure_may_work(*, actor: User, customer: Customer) -> None:
    """Follow-ups and deals are logged by the owner, or by the owner's manager or an admin."""
    if customer.owner_id == actor.pk or actor.is_admin:
        return
    if (
        actor.role == Role.MANAGER
        and customer.owner is not None
        and _may_act_for(actor=actor, rep=customer.owner)
    ):
        return
    raise NotAllowed(_("Only the customer's owner may do this."))


def _lock_for_work(*, actor: User, customer_id: int) -> Customer:
    """The customer row locked until the transaction ends, after checking who may work on it
    *as it is now*: the caller's instance may predate a release, transfer or recycle that just
    took the customer from the actor (then ``NotAllowed``, nothing written). Holding the lock,
    no ownership change can land between the check and the write; one in flight is waited for."""
    try:
        customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer_id)
    except Customer.DoesNotExist:
        raise NotAllowed(_("Only the customer's owner may do this.")) from None
    _ensure_may_work(actor=actor, customer=customer)
    return customer

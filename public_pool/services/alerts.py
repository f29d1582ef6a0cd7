"""Warnings before recycling, extension requests, and in-app notifications.

``warn_recycle`` runs daily (and as ``manage.py warn_recycle``):

1. Warn: every owned customer whose deadline falls within its rule's warning window gets one
   ``recycle_warning`` notification to the owner per deadline (a unique constraint makes a
   second run, or an overlapping one, add nothing). A follow-up moves the deadline, so a new
   warning is due only when the new deadline enters the window again.
2. Escalate: when the deadline is within ``PUBLIC_POOL_ESCALATE_HOURS`` (default 24) and the
   owner was warned about this very deadline in an earlier run — i.e. nothing moved it since —
   the owner's team manager gets one ``recycle_escalation`` notification per deadline.
3. E-mail, outside the transaction: each person with notifications not yet mailed gets ONE
   e-mail listing them. Rows are stamped ``emailed_at`` before sending (so two runs never mail
   the same row) and un-stamped if sending fails, so the next run retries: at-least-once per
   notification, at most one mail per person per run.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import Customer, Role, User
from public_pool import selectors
from public_pool.exceptions import (
    CustomerLeftRep,
    ExtensionAlreadyDecided,
    ExtensionAlreadyRequested,
    InvalidInput,
    NoRecycleDeadline,
    NotAllowed,
)
from public_pool.models import (
    DEADLINE_KINDS,
    LOSS_KINDS,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    PoolEvent,
    PoolEventKind,
)
from public_pool.services import team_chat
from public_pool.services._common import by_ids, ensure_manages, get_customer

CHUNK = 2000


@dataclass(frozen=True)
class WarnResult:
    warned: int
    escalated: int
    emails_sent: int


def _manager_of(owner: User | None) -> User | None:
    if owner is None or owner.team is None or owner.team.manager is None:
        return None
    manager = owner.team.manager
    return manager if manager.pk != owner.pk and manager.is_active else None


def _create_deadline_notifications(rows: list[Notification]) -> None:
    # ignore_conflicts: the partial unique index makes repeats (and racing runs) no-ops.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def _warn(*, as_of: datetime, stamp: datetime) -> int:
    window_end = ExpressionWrapper(
        Value(as_of, output_field=DateTimeField()) + customer_services.days(F("recycle_rule__warn_days")),
        output_field=DateTimeField(),
    )
    due = (
        Customer.objects.filter(owner__isnull=False, recycle_due_at__gt=as_of, recycle_rule__isnull=False)
        .filter(recycle_due_at__lte=window_end)
        .values_list("pk", "owner_id", "recycle_due_at", "name")
        .order_by("pk")
    )
    batch: list[Notification] = []
    for pk, owner_id, due_at, name in due.iterator(chunk_size=CHUNK):
        batch.append(
            Notification(
                user_id=owner_id,
                kind=NotificationKind.RECYCLE_WARNING,
                customer_id=pk,
                due_at=due_at,
                params={"customer": name},
                created_at=stamp,
            )
        )
        if len(batch) >= CHUNK:
            _create_deadline_notifications(batch)
            batch = []
    _create_deadline_notifications(batch)
    return Notification.objects.filter(kind=NotificationKind.RECYCLE_WARNING, created_at=stamp).count()


def _escalate(*, as_of: datetime, stamp: datetime) -> int:
    warned_earlier = Notification.objects.filter(
        user_id=OuterRef("owner_id"),
        kind=NotificationKind.RECYCLE_WARNING,
        customer_id=OuterRef("pk"),
        due_at=OuterRef("recycle_due_at"),
        created_at__lt=stamp,
    )
    customers = (
        Customer.objects.filter(
            owner__isnull=False,
            owner__team__manager__isnull=False,
            recycle_due_at__gt=as_of,
            recycle_due_at__lte=as_of + timedelta(hours=settings.PUBLIC_POOL_ESCALATE_HOURS),
        )
        .filter(Exists(warned_earlier))
        .select_related("owner__team__manager")
        .order_by("pk")
    )
    batch: list[Notification] = []
    for customer in customers.iterator(chunk_size=CHUNK):
        manager = _manager_of(customer.owner)
        if manager is None:
            continue
        batch.append(
            Notification(
                user=manager,
                kind=NotificationKind.RECYCLE_ESCALATION,
                customer_id=customer.pk,
                due_at=customer.recycle_due_at,
                params={"customer": customer.name, "owner": str(customer.owner)},
                created_at=stamp,
            )
        )
        if len(batch) >= CHUNK:
            _create_deadline_notifications(batch)
            batch = []
    _create_deadline_notifications(batch)
    return Notification.objects.filter(kind=NotificationKind.RECYCLE_ESCALATION, created_at=stamp).count()


def _mail_body(user: User, notifications: list[Notification]) -> str:
    lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.username}, ""]
    own = [n for n in notifications if n.kind == NotificationKind.RECYCLE_WARNING]
    team = [n for n in notifications if n.kind == NotificationKind.RECYCLE_ESCALATION]
    if own:
        lines.append(_("These customers of yours go back to the pool unless you follow up in time:"))
        lines += [
            f"- {n.params.get('customer', '')}: {timezone.localtime(n.due_at):%Y-%m-%d %H:%M}"
            for n in own
            if n.due_at
        ]
        lines.append("")
    if team:
        lines.append(
            _("These customers of your team are about to go back to the pool, with nothing done yet:")
        )
        lines += [
            f"- {n.params.get('customer', '')} ({n.params.get('owner', '')}): "
            f"{timezone.localtime(n.due_at):%Y-%m-%d %H:%M}"
            for n in team
            if n.due_at
        ]
        lines.append("")
    recycled = [n for n in notifications if n.kind == NotificationKind.RECYCLED]
    if recycled:
        lines.append(_("These customers of yours went back to the pool:"))
        lines += [f"- {n.message}" for n in recycled]
    return "\n".join(lines)


def send_pending_recycle_emails(*, as_of: datetime | None = None) -> int:
    """One e-mail per person for their deadline and ``recycled`` notifications not mailed yet;
    returns mails sent."""
    as_of = as_of or timezone.now()
    pending = list(
        Notification.objects.filter(
            Q(kind__in=DEADLINE_KINDS, due_at__gt=as_of) | Q(kind=NotificationKind.RECYCLED),
            emailed_at__isnull=True,
        )
        .values_list("pk", "user_id")
        .order_by("user_id", "due_at", "pk")
    )
    by_user: dict[int, list[int]] = defaultdict(list)
    for pk, user_id in pending:
        by_user[user_id].append(pk)
    users = User.objects.in_bulk(list(by_user))
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for user_id, ids in by_user.items():
            stamp = timezone.now()
            # Claim the rows first: a concurrent run claims none of them and mails nothing.
            if not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=stamp):
                continue
            user = users[user_id]
            if not user.email:
                continue
            notifications = list(Notification.objects.filter(pk__in=ids, emailed_at=stamp).order_by("due_at"))
            claimed = [n.pk for n in notifications]
            only_recycled = all(n.kind == NotificationKind.RECYCLED for n in notifications)
            message = mail.EmailMessage(
                subject=_("Customers returned to the pool")
                if only_recycled
                else _("Customers about to be recycled"),
                body=_mail_body(user, notifications),
                to=[user.email],
            )
            try:
                message.send()
            except Exception:
                Notification.objects.filter(pk__in=claimed, emailed_at=stamp).update(emailed_at=None)
                raise
            sent += 1
    return sent


def warn_recycle(*, as_of: datetime | None = None) -> WarnResult:
    """Warn owners, escalate to managers, e-mail both (see the module docstring). Idempotent."""
    as_of = as_of or timezone.now()
    stamp = timezone.now()
    with transaction.atomic():
        warned = _warn(as_of=as_of, stamp=stamp)
        escalated = _escalate(as_of=as_of, stamp=stamp)
    if team_chat.any_team_chat():  # after the commit; skips the scan when no team has a chat
        team_chat.announce_where(Notification.objects.filter(kind__in=DEADLINE_KINDS, created_at=stamp))
    emails = send_pending_recycle_emails(as_of=as_of)
    return WarnResult(warned=warned, escalated=escalated, emails_sent=emails)


# --- Extensions ------------------------------------------------------------------------------


def _extension_errors(*, reason: str, days: int, limit: int, verb: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if verb == "ask" and not reason.strip():
        errors["reason"] = _("Say why you need more time.")
    if not 1 <= days <= limit:
        if verb == "ask":
            errors["days"] = _("Ask for 1 to %(max)d days.") % {"max": limit}
        else:
            errors["days"] = _("Grant 1 to %(max)d days.") % {"max": limit}
    return errors


@transaction.atomic
def request_extension(
    *, rep: User, customer_id: int, reason: str = "", days: int | None = None
) -> ExtensionRequest:
    """The owner asks to push a customer's recycle deadline out by ``days``, saying why
    (``reason``, required); once per customer per ownership, even when two requests race.

    ``days`` defaults to ``PUBLIC_POOL_EXTENSION_DAYS`` and may be at most the
    ``max_extension_days`` of the pool whose rule sets the deadline
    (``selectors.extension_day_limit``). Raises ``NotAllowed`` (not the owner),
    ``NoRecycleDeadline``, ``InvalidInput`` (``reason`` blank, ``days`` out of range: both at
    once when both are wrong), ``ExtensionAlreadyRequested``. Logs an ``extension_request``
    event and notifies the owner's manager.
    """
    customer = get_customer(customer_id)
    if customer.owner_id != rep.pk:
        raise NotAllowed(_("Only the customer's owner may ask for an extension."))
    if customer.recycle_due_at is None:
        raise NoRecycleDeadline()
    limit = selectors.extension_day_limit(customer)
    days = min(settings.PUBLIC_POOL_EXTENSION_DAYS, limit) if days is None else days
    errors = _extension_errors(reason=reason, days=days, limit=limit, verb="ask")
    if errors:
        raise InvalidInput(errors)
    reason = reason.strip()
    now = timezone.now()
    try:
        with transaction.atomic():
            request = ExtensionRequest.objects.create(
                customer=customer,
                owner=rep,
                owned_since=customer.claimed_at or customer.created_at,
                days=days,
                note=reason,
                requested_at=now,
            )
    except IntegrityError:
        raise ExtensionAlreadyRequested() from None
    PoolEvent.objects.create(
        customer=customer,
        kind=PoolEventKind.EXTENSION_REQUEST,
        actor=rep,
        reason=f"+{days}d",
        note=reason,
        at=now,
    )
    manager = _manager_of(User.objects.select_related("team__manager").get(pk=rep.pk))
    if manager is not None:
        Notification.objects.create(
            user=manager,
            kind=NotificationKind.EXTENSION_REQUESTED,
            customer=customer,
            due_at=customer.recycle_due_at,
            params={"customer": customer.name, "owner": str(rep), "days": days, "request": request.pk},
            created_at=now,
        )
    return request


def _left_rep_error(request: ExtensionRequest, customer: Customer) -> CustomerLeftRep:
    """Why an extension can no longer be approved, in words: how and when the customer left."""
    left = (
        PoolEvent.objects.filter(
            customer_id=customer.pk,
            from_owner_id=request.owner_id,
            kind__in=[*LOSS_KINDS, PoolEventKind.TRANSFER],
            at__gte=request.owned_since,
        )
        .order_by("at", "id")
        .values_list("kind", "at")
        .first()
    )
    params = {"customer": customer.name, "rep": str(request.owner), "date": ""}
    if left is not None:
        params["date"] = timezone.localtime(left[1]).strftime("%Y-%m-%d")
        kind = left[0]
        if kind == PoolEventKind.RECYCLE:
            return CustomerLeftRep(
                _(
                    "%(customer)s was recycled on %(date)s and is no longer %(rep)s's customer, so "
                    "the extension cannot be approved. Refuse it to close the request."
                )
                % params
            )
        if kind == PoolEventKind.RELEASE:
            return CustomerLeftRep(
                _(
                    "%(rep)s released %(customer)s on %(date)s, so the extension cannot be approved. "
                    "Refuse it to close the request."
                )
                % params
            )
        if kind == PoolEventKind.TRANSFER:
            return CustomerLeftRep(
                _(
                    "%(customer)s was transferred away from %(rep)s on %(date)s, so the extension "
                    "cannot be approved. Refuse it to close the request."
                )
                % params
            )
    return CustomerLeftRep(
        _(
            "%(customer)s is no longer %(rep)s's customer, so the extension cannot be approved. "
            "Refuse it to close the request."
        )
        % params
    )


@transaction.atomic
def decide_extension(
    *, actor: User, request_id: int, approve: bool, days: int | None = None, note: str = ""
) -> ExtensionRequest:
    """The owner's manager (or an admin) approves or refuses a pending extension request.

    Approval adds ``days`` (default: the days asked for, at most the pool's
    ``max_extension_days``) to the customer's extension and moves the deadline at once. It is
    refused with ``CustomerLeftRep`` — and nothing changes: the request stays pending, no event,
    no notification — when the customer is no longer the requesting rep's in the ownership the
    request was made in (recycled, released or transferred since). The customer's row is locked
    first, so a recycle run, release or transfer happens wholly before or after the decision.
    Refusing is always possible (it closes a stale request). Two managers deciding at once: one
    wins, the other gets ``ExtensionAlreadyDecided``. Logs an ``extension_approve`` or
    ``extension_refuse`` event and notifies the rep in words, with the new deadline.
    """
    request = ExtensionRequest.objects.select_related("owner", "customer").get(pk=request_id)
    ensure_manages(actor, request.owner)
    if actor.role == Role.REP:
        raise NotAllowed(_("Only a manager or an admin may decide."))
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    request.customer = customer
    if request.status != ExtensionStatus.PENDING:
        raise ExtensionAlreadyDecided()
    granted = request.days if days is None else days
    if approve:
        if not request.customer_still_theirs:
            raise _left_rep_error(request, customer)
        errors = _extension_errors(
            reason="", days=granted, limit=selectors.extension_day_limit(customer), verb="grant"
        )
        if errors:
            raise InvalidInput(errors)
    now = timezone.now()
    status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    decided = ExtensionRequest.objects.filter(pk=request_id, status=ExtensionStatus.PENDING).update(
        status=status, decided_by=actor, decided_at=now, decision_note=note.strip(), days=granted
    )
    if decided == 0:
        raise ExtensionAlreadyDecided()
    if approve:
        Customer.objects.filter(pk=customer.pk).update(
            recycle_extension_days=F("recycle_extension_days") + granted
        )
        customer_services.refresh_recycle_due(customers=by_ids([customer.pk]))
        customer.refresh_from_db(fields=["recycle_due_at"])
    PoolEvent.objects.create(
        customer_id=request.customer_id,
        kind=PoolEventKind.EXTENSION_APPROVE if approve else PoolEventKind.EXTENSION_REFUSE,
        actor=actor,
        reason=f"+{granted}d" if approve else "",
        note=note.strip(),
        at=now,
    )
    Notification.objects.create(
        user=request.owner,
        kind=NotificationKind.EXTENSION_DECIDED,
        customer_id=request.customer_id,
        # The deadline as it stands after the decision (None when the customer left the rep).
        due_at=customer.recycle_due_at if request.customer_still_theirs else None,
        params={
            "customer": request.customer.name,
            "days": granted,
            "approved": approve,
            "by": str(actor),
            "note": note.strip(),
        },
        created_at=now,
    )
    team_chat.announce_where(
        Notification.objects.filter(
            kind=NotificationKind.EXTENSION_DECIDED, customer_id=request.customer_id, created_at=now
        )
    )
    request.refresh_from_db()
    return request


def mark_notifications_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark ``user``'s notifications (all, or the given ones) read; returns how many changed."""
    notifications = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        notifications = notifications.filter(pk__in=notification_ids)
    return notifications.update(read_at=timezone.now())

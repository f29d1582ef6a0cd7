"""The managers' daily digest of their teams' recycled customers.

Each ``recycled`` notice (written by the recycle batch to the former owner) goes into ONE
e-mail to the owner's team manager: rows are stamped ``team_digested_at`` before sending (so
two runs never mail the same row) and un-stamped if sending fails, so the next run retries —
at-least-once per notice, at most one mail per manager per run. Notices older than
:data:`DIGEST_WINDOW_DAYS` are left out (the job did not run for that long; they are still in
the reps' notifications).
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import User
from public_pool.models import Notification, NotificationKind

DIGEST_WINDOW_DAYS = 7


def _digest_body(manager: User, notices: list[Notification]) -> str:
    lines = [
        _("Hello %(name)s,") % {"name": manager.get_full_name() or manager.username},
        "",
        ngettext(
            "%(n)d customer of your team went back to the pool:",
            "%(n)d customers of your team went back to the pool:",
            len(notices),
        )
        % {"n": len(notices)},
    ]
    for notice in notices:
        owner = notice.user.get_full_name() or notice.user.username
        lines.append(f"- {owner}: {notice.message}")
    return "\n".join(lines)


def send_team_recycled_digests(*, now: datetime | None = None) -> int:
    """One e-mail per team manager listing the team's recycled customers not digested yet;
    returns mails sent. Reached through each rep's ``notification_user_created`` index."""
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            kind=NotificationKind.RECYCLED,
            team_digested_at__isnull=True,
            created_at__gte=now - timedelta(days=DIGEST_WINDOW_DAYS),
            user__team__manager__isnull=False,
        )
        .exclude(user_id=F("user__team__manager_id"))  # a manager's own notice already told them
        .values_list("pk", "user__team__manager_id")
        .order_by("user__team__manager_id", "created_at", "pk")
    )
    by_manager: dict[int, list[int]] = defaultdict(list)
    for pk, manager_id in pending:
        by_manager[manager_id].append(pk)
    managers = User.objects.in_bulk(list(by_manager))
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for manager_id, ids in by_manager.items():
            stamp = timezone.now()
            if not Notification.objects.filter(pk__in=ids, team_digested_at__isnull=True).update(
                team_digested_at=stamp
            ):
                continue
            manager = managers[manager_id]
            if not manager.email or not manager.is_active:
                continue
            notices = list(
                Notification.objects.filter(pk__in=ids, team_digested_at=stamp)
                .select_related("user")
                .order_by("created_at", "pk")
            )
            message = mail.EmailMessage(
                subject=_("Your team's customers returned to the pool"),
                body=_digest_body(manager, notices),
                to=[manager.email],
            )
            try:
                message.send()
            except Exception:
                Notification.objects.filter(pk__in=[n.pk for n in notices], team_digested_at=stamp).update(
                    team_digested_at=None
                )
                raise
            sent += 1
    return sent

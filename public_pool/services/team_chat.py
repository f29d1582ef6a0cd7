"""Team group chats: recycle warnings, recycled notices and extension decisions of a team's reps
are also posted to the team's group robot (WeCom 企业微信, DingTalk 钉钉 or Feishu 飞书), when an
admin gave the team one (:class:`~public_pool.models.TeamChatWebhook`).

The notifications are the outbox: the code that writes them calls :func:`announce` (or
:func:`announce_where`) with their ids, which enqueues ONE Celery task per team on commit —
never an HTTP call inside a transaction, and nothing at all when no team has a webhook. The
task (``tasks.post_team_chat_task``) renders the notifications in the site's language, in the
team's chat's own message format, and posts them in one message. At-least-once: a timeout, a
5xx, a 429 or a rate-limit answer raises :class:`TeamChatUnavailable` and the task retries with
backoff (a post whose answer was lost may then arrive twice); any other refusal (4xx, an error
code in the answer) raises :class:`TeamChatRefused` and is not retried.
"""

import json
import logging
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from public_pool import tasks
from public_pool.exceptions import TeamChatRefused, TeamChatUnavailable
from public_pool.models import ChatKind, Notification, NotificationKind, TeamChatWebhook

log = logging.getLogger(__name__)

# Lines per post; the rest is summed up ("… and 12 more").
MAX_LINES = 30
TIMEOUT_SECONDS = 10
# Error codes in a 200 answer that mean "too many messages, try later".
RATE_LIMITED: dict[str, set[int]] = {
    ChatKind.WECOM: {45009},
    ChatKind.DINGTALK: {130101, 410100},
    ChatKind.FEISHU: {9499, 11232},
}


def any_team_chat() -> bool:
    return TeamChatWebhook.objects.filter(enabled=True).exists()


def _enqueue(team_id: int, notification_ids: list[int]) -> None:
    options = {"queue": settings.PUBLIC_POOL_TEAM_CHAT_QUEUE} if settings.PUBLIC_POOL_TEAM_CHAT_QUEUE else {}
    tasks.post_team_chat_task.apply_async(
        kwargs={"team_id": team_id, "notification_ids": notification_ids}, **options
    )


def announce_where(notifications: QuerySet[Notification]) -> int:
    """Enqueue, on commit, one post per team with an enabled webhook for ``notifications`` whose
    user is in that team. One query; returns the number of posts queued."""
    by_team: dict[int, list[int]] = defaultdict(list)
    for team_id, pk in notifications.filter(user__team__chat_webhook__enabled=True).values_list(
        "user__team_id", "pk"
    ):
        by_team[team_id].append(pk)
    for team_id, ids in by_team.items():
        transaction.on_commit(partial(_enqueue, team_id, ids))
    return len(by_team)


def announce(*, notification_ids: list[int]) -> int:
    """:func:`announce_where` for notifications by id."""
    return announce_where(Notification.objects.filter(pk__in=notification_ids))


# --- Posting -----------------------------------------------------------------------------------

HEADINGS: dict[str, Callable[[], str]] = {
    NotificationKind.RECYCLE_WARNING: lambda: _("About to go back to the pool"),
    NotificationKind.RECYCLE_ESCALATION: lambda: _("About to go back to the pool, nothing done yet"),
    NotificationKind.RECYCLED: lambda: _("Returned to the pool"),
    NotificationKind.EXTENSION_DECIDED: lambda: _("Extension decisions"),
    NotificationKind.EXTENSION_REQUESTED: lambda: _("Extension requests"),
}


def render_message(
    *, team_name: str, notifications: list[Notification]
) -> tuple[str, list[tuple[str, list[str]]]]:
    """The post's title and its sections (heading, lines), in the active language."""
    sections: dict[str, list[str]] = {}
    for notification in notifications:
        heading = HEADINGS.get(notification.kind, lambda: _("Notifications"))()
        person = notification.user.get_full_name() or notification.user.username
        sections.setdefault(heading, []).append(f"{person}: {notification.message}")
    title = _("%(team)s · customer pool") % {"team": team_name}
    return title, list(sections.items())


def _lines(sections: list[tuple[str, list[str]]], *, bold: str) -> list[str]:
    out: list[str] = []
    left = MAX_LINES
    for heading, lines in sections:
        out.append(bold % heading)
        shown = lines[: max(left, 0)]
        out += [f"- {line}" for line in shown]
        left -= len(shown)
        if len(lines) > len(shown):
            out.append(_("… and %(n)d more") % {"n": len(lines) - len(shown)})
    return out


def chat_payload(*, kind: str, title: str, sections: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """The JSON body each chat's group robot expects."""
    if kind == ChatKind.WECOM:
        # 企业微信: markdown, ``content`` up to 4096 bytes.
        text = "\n".join([f"**{title}**", *_lines(sections, bold="**%s**")])
        return {"msgtype": "markdown", "markdown": {"content": text[:4000]}}
    if kind == ChatKind.DINGTALK:
        # 钉钉: markdown needs a ``title`` (shown in the notification) and ``text``.
        text = "\n\n".join([f"#### {title}", *_lines(sections, bold="**%s**")])
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    # 飞书: plain text.
    text = "\n".join([title, *_lines(sections, bold="【%s】")])
    return {"msg_type": "text", "content": {"text": text}}


def _error_code(kind: str, answer: dict[str, Any]) -> int:
    if kind == ChatKind.FEISHU:
        return int(answer.get("code", answer.get("StatusCode", 0)) or 0)
    return int(answer.get("errcode", 0) or 0)


def post_payload(*, kind: str, url: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` to a group robot; raises TeamChatUnavailable (retry) or TeamChatRefused."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 -- admins set http(s) URLs only (URLField)
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise TeamChatUnavailable(f"{kind} answered {error.code}") from error
        raise TeamChatRefused(f"{kind} answered {error.code}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TeamChatUnavailable(f"{kind}: {error}") from error
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    code = _error_code(kind, answer) if isinstance(answer, dict) else 0
    if code in RATE_LIMITED.get(kind, set()):
        raise TeamChatUnavailable(f"{kind} rate limit ({code})")
    if code:
        raise TeamChatRefused(f"{kind} refused the message: {answer}")


def post_to_team_chat(*, team_id: int, notification_ids: list[int]) -> bool:
    """Post ``notification_ids`` (those of the team's people that still exist) to the team's
    chat in one message. False when there is nothing to post (no enabled webhook, no rows)."""
    webhook = TeamChatWebhook.objects.filter(team_id=team_id, enabled=True).select_related("team").first()
    if webhook is None:
        return False
    notifications = list(
        Notification.objects.filter(pk__in=notification_ids, user__team_id=team_id)
        .select_related("user")
        .order_by("kind", "created_at", "pk")
    )
    if not notifications:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        title, sections = render_message(team_name=webhook.team.name, notifications=notifications)
        payload = chat_payload(kind=webhook.kind, title=title, sections=sections)
    post_payload(kind=webhook.kind, url=webhook.url, payload=payload)
    log.info("posted %d notifications to team %s's %s chat", len(notifications), team_id, webhook.kind)
    return True

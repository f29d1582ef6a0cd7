"""The navigation's notification badge.

The count is lazy: ``pool_notifications.unread`` runs ONE indexed COUNT (partial index
``notification_unread``) the first time a template reads it — i.e. once per full page, whose
navigation shows the badge — and nothing for htmx fragments or anonymous visitors.
"""

from functools import cached_property

from django.http import HttpRequest

from public_pool.selectors import unread_notification_count


class NotificationBadge:
    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        if not self.user.is_authenticated:
            return 0
        return unread_notification_count(self.user)


def notifications(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pool_notifications": NotificationBadge(user)}

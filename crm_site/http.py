"""Request types for views, so the type checker knows what the middleware put on a request.

Behind ``login_required`` (or the admin) ``request.user`` is a signed-in ``customers.User``,
never ``AnonymousUser``; django-htmx's middleware adds ``request.htmx`` to every request.
Annotate such a view's argument as ``AuthenticatedRequest``; code that is handed a plain
``HttpRequest`` (admin hooks, DRF) asks ``signed_in_user(request)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from customers.models import User


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedRequest(HtmxRequest):
    user: User  # narrower than HttpRequest's: login_required let the request in


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, known to be signed in (a view behind login_required or the admin)."""
    from customers.models import User

    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user

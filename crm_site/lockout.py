"""The answer to a sign-in that django-axes refused, and when the lock ends.

axes counts wrong passwords per username and per client address (settings: "Sign-in"). Once
either reaches ``AXES_FAILURE_LIMIT``, every sign-in for it is refused until
``AXES_COOLOFF_TIME`` after the failure that set the lock, or until an admin deletes the
access attempt in the admin. The API answers ``429 {"code": "locked_out", "detail"}``; the
login page and the admin login answer a page saying the same in the visitor's language. Both
carry ``Retry-After`` (seconds).
"""

import math
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from crm_site.exceptions import DomainError


class LockedOut(DomainError):
    """Too many failed sign-ins: HTTP 429 with ``Retry-After``."""

    code = "locked_out"
    status_code = 429

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(locked_out_message(retry_after), code="locked_out")
        self.retry_after = retry_after


def lock_ends_at(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime:
    """When the lock on this request's username or address ends (now + cool-off if unknown)."""
    now = timezone.now()
    cool_off = get_cool_off(request) or timedelta(0)
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    ends = []
    for attempts in handler.get_user_attempts(request, credentials):
        figures = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (figures["failures"] or 0) >= limit and figures["last"] is not None:
            ends.append(figures["last"] + cool_off)
    return max(ends) if ends else now + cool_off


def forget_failures(request: HttpRequest, username: str) -> None:
    """After a successful sign-in outside Django's login(): clear the failures it would clear."""
    if settings.AXES_RESET_ON_SUCCESS:
        AxesProxyHandler.update_request(request)
        AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": username})


def retry_after_seconds(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    remaining = (lock_ends_at(request, credentials) - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def locked_out_message(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute, "
        "or ask an administrator to unlock your account.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock your account.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: JSON for ``/api/``, the lockout page for the login pages."""
    retry_after = retry_after_seconds(request, credentials)
    message = locked_out_message(retry_after)
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"code": "locked_out", "detail": message}, status=429)
    else:
        admin_login = reverse("admin:login")
        sign_in_url = admin_login if request.path_info.startswith(admin_login) else reverse("login")
        response = render(
            request,
            "registration/locked_out.html",
            {
                "message": message,
                "unlocks_at": timezone.now() + timedelta(seconds=retry_after),
                "sign_in_url": sign_in_url,
                "title": gettext("Sign-in locked"),
            },
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response


class LockoutBackend(AxesStandaloneBackend):
    """axes' backend, which refuses locked-out sign-ins; calls without a request pass through.

    Every sign-in from the web (login page, admin login, token endpoint) passes the request;
    only code on the server itself (the test client's ``login()``, a shell) calls
    ``authenticate()`` without one, and there is nothing to count or lock there.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

"""DRF glue shared by every app: pagination, errors, request typing."""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, pagination, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm_site.exceptions import ConflictError, DomainError

if TYPE_CHECKING:
    from customers.models import User


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 200), answering ``count/next/previous/results``."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


_CODES_BY_EXCEPTION: list[tuple[type[Exception], str]] = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.ValidationError, "invalid"),
    (exceptions.Throttled, "throttled"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error answers ``{"code", "detail"}`` (plus ``"fields"`` for validation errors)."""
    if isinstance(exc, DomainError):
        status_code = status.HTTP_409_CONFLICT if isinstance(exc, ConflictError) else exc.status_code
        return Response({"code": exc.code, "detail": str(exc.message)}, status=status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": code, "detail": _validation_summary(), "fields": fields}
    else:
        response.data = {"code": code, "detail": str(getattr(exc, "detail", exc))}
    return response


def _validation_summary() -> str:
    return gettext("Some fields are not valid.")


class AuthedRequest(Request):
    """A request whose user is signed in (for type checkers)."""

    user: "User"

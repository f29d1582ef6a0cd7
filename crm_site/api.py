"""DRF glue shared by every app: pagination, errors, request typing."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from crm_site.exceptions import ConflictError, DomainError

if TYPE_CHECKING:
    from customers.models import User


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most 200), answering ``count/next/previous/results``."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


def paginated_response(
    *,
    request: Request,
    view: APIView,
    queryset: QuerySet[Any],
    serializer_class: type[serializers.BaseSerializer[Any]],
) -> Response:
    """One page of ``queryset`` rendered with ``serializer_class``, for plain ``APIView`` lists.

    Uses the view's ``pagination_class`` (set it on the view too: drf-spectacular reads it to
    document the paginated answer and the ``page``/``page_size`` parameters). Costs one COUNT
    and one page query, plus whatever the queryset prefetches: never a query per row as long as
    the serializer reads only what the queryset loaded.
    """
    paginator = getattr(view, "pagination_class", None) or PageNumberPagination
    pager = paginator()
    page = pager.paginate_queryset(queryset, request, view=view)
    return pager.get_paginated_response(serializer_class(page, many=True).data)


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
        body: dict[str, Any] = {"code": exc.code, "detail": str(exc.message)}
        # Services that validate (e.g. ``CustomerInvalid``) carry per-field messages: answer them in
        # the same shape as a serializer's ValidationError, so clients handle one format.
        domain_fields = getattr(exc, "fields", None)
        if domain_fields:
            body["fields"] = _as_field_lists(domain_fields)
        return Response(body, status=status_code)
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


def _as_field_lists(fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{"name": "msg"}`` or ``{"name": ["msg", ...]}`` → ``{"name": ["msg", ...]}``."""
    return {
        name: [str(m) for m in messages]
        if isinstance(messages, Sequence) and not isinstance(messages, str)
        else [str(messages)]
        for name, messages in fields.items()
    }


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (for the OpenAPI schema; the handler above builds it)."""

    code = serializers.CharField(
        help_text=_("Machine-readable, e.g. `invalid`, `not_found`, `already_claimed`.")
    )
    detail = serializers.CharField(help_text=_("Human-readable, in the request's language."))
    # Shadows Serializer.fields for the type checker only: DRF moves declared fields aside.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Validation errors only: messages per input field."),
    )

    class Meta:
        ref_name = "Error"


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries documenting our error body for these statuses."""
    descriptions = {
        400: _("Invalid input (`fields` says which) or a rule said no."),
        401: _("Not signed in."),
        403: _("Signed in, but not allowed."),
        404: _("No such object, or not one the caller may see."),
        409: _("Clashes with the current state."),
    }
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=descriptions.get(code, ""))
        for code in status_codes
    }


class AuthedRequest(Request):
    """A request whose user is signed in (for type checkers)."""

    user: "User"

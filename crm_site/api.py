"""DRF glue shared by every app: pagination, errors, request typing."""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from crm_site import bounds
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


class BoundedDateTimeField(serializers.DateTimeField):
    """A ``DateTimeField`` limited to ``crm_site.bounds`` (years 2000–2999). The range is checked
    before DRF applies the time zone, which overflows near year 1 and year 9999."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if not bounds.day_in_range(value):
            raise serializers.ValidationError(bounds.out_of_range_message(), code="date_out_of_range")
        return super().enforce_timezone(value)


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
        retry_after = getattr(exc, "retry_after", None)  # crm_site.lockout.LockedOut
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return Response(body, status=status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return Response(
            {"code": "too_large", "detail": gettext("The request is too large.")},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": code, "detail": _validation_summary(), "fields": _flat_fields(detail)}
    else:
        response.data = {"code": code, "detail": str(getattr(exc, "detail", exc))}
    return response


def _flat_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors (a list field's items, a nested serializer) as one flat mapping
    ``{"tags.0": ["message"]}``, the ``FieldErrors`` shape the schema documents."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        items: Any = detail.items()
    elif (
        isinstance(detail, Sequence)
        and not isinstance(detail, str)
        and any(isinstance(item, Mapping | list) for item in detail)
    ):
        items = ((str(index), item) for index, item in enumerate(detail) if item)
    else:
        messages = detail if isinstance(detail, Sequence) and not isinstance(detail, str) else [detail]
        return {prefix or "non_field_errors": [str(message) for message in messages]}
    for key, value in items:
        flat.update(_flat_fields(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


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


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "Messages per input field. A nested field is named by its path: "
        "`tags.0`, `contacts.1.email`; errors of the whole input are under `non_field_errors`.",
    },
    component_name="FieldErrors",
)
class FieldErrorsField(serializers.DictField):
    """``{"<field>": ["message", ...]}``: the one shape of ``fields`` in every error answer."""

    child = serializers.ListField(child=serializers.CharField())


class SafeDateTimeField(serializers.DateTimeField):
    """A ``DateTimeField`` that answers 400 ``Datetime value out of range.`` for a naive time
    that cannot be placed in the time zone (year 1 east of UTC), where DRF raises OverflowError."""

    def enforce_timezone(self, value: Any) -> Any:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (for the OpenAPI schema; the handler above builds it)."""

    code = serializers.CharField(
        help_text=_("Machine-readable, e.g. `invalid`, `not_found`, `already_claimed`.")
    )
    detail = serializers.CharField(help_text=_("Human-readable, in the request's language."))
    # Shadows Serializer.fields for the type checker only: DRF moves declared fields aside.
    fields = FieldErrorsField(  # type: ignore[assignment]
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
        413: _("The request body is too large (`too_large`)."),
        415: _("The body is not JSON, a form or multipart."),
        429: _("Too many requests (`throttled`) or failed sign-ins (`locked_out`): see `Retry-After`."),
    }
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=descriptions.get(code, ""))
        for code in status_codes
    }


class AuthedRequest(Request):
    """A request whose user is signed in (for type checkers)."""

    user: "User"

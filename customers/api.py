"""REST API for customers, follow-ups and the signed-in user (the contract is ``API.md``).

Each endpoint is thin: a nested ``InputSerializer`` checks the *shape* of the input, then one
selector or service does the work and a nested ``OutputSerializer`` renders the answer. Who may
see a customer is decided once, in ``selectors.customers_visible_to`` (through
``search_customers`` and ``get_visible_customer``); what may be done, in ``services``. Domain
exceptions (``CustomerInvalid``, ``NotAllowed``...) become answers in one place,
``crm_site.api.exception_handler``, so a service's field errors look exactly like a
serializer's: ``{"code": "invalid", "detail": ..., "fields": {...}}``.

A customer the caller may not see answers 404, never 403, so the API does not confirm that it
exists. A customer the caller sees but may not act on (the service says no) answers 403.

This module never imports ``public_pool`` (DESIGN.md: dependencies point
``public_pool -> customers``). Creating into a pool is added by subclassing
``CustomerListCreateApi`` in ``public_pool/api/claims.py``; see its docstring.
"""

from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import (
    AuthedRequest,
    PageNumberPagination,
    SafeDateTimeField,
    error_responses,
    paginated_response,
)
from crm_site.exceptions import DomainError
from crm_site.lockout import LockedOut, forget_failures, retry_after_seconds
from customers import selectors, services, tokens
from customers.exceptions import PoolNotSupported
from customers.models import (
    Campaign,
    CompanySize,
    Customer,
    DealStage,
    FollowUp,
    FollowUpKind,
    Industry,
    Level,
    Role,
    Source,
    User,
)
from customers.pagination import EstimatedCountPagination
from customers.services.activity import BLANK_NOTE_MESSAGE

# --- Shared serializers -----------------------------------------------------------------------


class CustomerOutputSerializer(serializers.ModelSerializer[Customer]):
    """A customer as every endpoint answers it (list rows and single objects alike).

    Reads only columns of the row and what ``search_customers`` / ``get_visible_customer``
    load with it (``owner`` and ``team`` joined, ``tags`` prefetched), so a page of any size
    costs the same number of queries. ``owner``, ``team``, ``pool`` and ``campaign`` are ids.
    """

    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    owner_name = serializers.SerializerMethodField()
    team = serializers.IntegerField(source="team_id", allow_null=True, read_only=True)
    team_name = serializers.SerializerMethodField()
    pool = serializers.IntegerField(source="pool_id", allow_null=True, read_only=True)
    campaign = serializers.IntegerField(source="campaign_id", allow_null=True, read_only=True)
    tags = serializers.SerializerMethodField()
    recycle_due_at = serializers.SerializerMethodField(
        help_text=_("While owned: when the customer goes back to the pool (null: no rule applies).")
    )
    recycle_rule = serializers.SerializerMethodField(
        help_text=_("While owned: the recycle rule that applies.")
    )
    recycle_trigger = serializers.SerializerMethodField(
        help_text=_(
            "While owned: what the owner must do to keep it (no_followup: follow up; no_deal: win a deal)."
        )
    )

    class Meta:
        model = Customer
        ref_name = "Customer"
        fields = [
            "id",
            "name",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "pool",
            "phone",
            "email",
            "level",
            "value_tier",
            "industry",
            "size",
            "region",
            "address",
            "website",
            "source",
            "campaign",
            "tags",
            "is_protected",
            "note",
            "last_followup_at",
            "first_won_at",
            "recycle_due_at",
            "recycle_rule",
            "recycle_trigger",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_owner_name(self, customer: Customer) -> str | None:
        owner = customer.owner
        if owner is None:
            return None
        return owner.get_full_name() or owner.username

    def get_recycle_due_at(self, customer: Customer) -> datetime | None:
        return services.owned_deadline(customer)[0]

    def get_recycle_rule(self, customer: Customer) -> int | None:
        return services.owned_deadline(customer)[1]

    @extend_schema_field(
        serializers.ChoiceField(choices=["no_followup", "no_deal"], allow_null=True, read_only=True)
    )
    def get_recycle_trigger(self, customer: Customer) -> str | None:
        # From the row's own columns (no query): the same formula as the stored deadline.
        return services.recycle_trigger(customer)

    def get_team_name(self, customer: Customer) -> str | None:
        team = customer.team
        return team.name if team is not None else None

    def get_tags(self, customer: Customer) -> list[str]:
        # ``.all()`` is served by the prefetch cache; sorting here keeps it that way.
        return sorted(tag.name for tag in customer.tags.all())


_phone_shape = RegexValidator(
    r"^\+?[\d\s\-().]*$",
    message=_("Enter a phone number: digits, spaces, “+”, “-” and brackets only."),
)


class CustomerFieldsSerializer(serializers.Serializer[Any]):
    """The editable details of a customer, shape only (lengths, choices, formats).

    No field has a default: what is left out stays out of ``validated_data``, so create falls
    back to ``CustomerData``'s defaults and PATCH keeps the current value. Normalising (phone
    digits, lower-case e-mail) and the rules are ``services``' job.
    """

    name = serializers.CharField(max_length=200)
    industry = serializers.ChoiceField(choices=Industry.choices, required=False, allow_blank=True)
    size = serializers.ChoiceField(choices=CompanySize.choices, required=False, allow_blank=True)
    region = serializers.CharField(max_length=50, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, validators=[_phone_shape])
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False)  # type: ignore[assignment]  # a field, not Field.source
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True
    )
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    is_protected = serializers.BooleanField(
        required=False, help_text=_("Only managers and admins may set it; for reps it is ignored.")
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50, help_text=_("Tag names.")
    )


_CUSTOMER_DATA_FIELDS = frozenset(field.name for field in dataclass_fields(services.CustomerData))


def customer_data_changes(validated: dict[str, Any]) -> dict[str, Any]:
    """``CustomerFieldsSerializer.validated_data`` → keyword arguments of ``CustomerData``.

    Keys that are not customer details (``owner``, ``pool``) are left out.
    """
    changes = {key: value for key, value in validated.items() if key in _CUSTOMER_DATA_FIELDS}
    if "campaign" in validated:
        changes["campaign_id"] = validated["campaign"].pk if validated["campaign"] else None
    if "tags" in validated:
        changes["tags"] = tuple(validated["tags"])
    return changes


def _current_customer_data(customer: Customer) -> services.CustomerData:
    """A customer's stored details, the base a partial update is merged into."""
    return services.CustomerData(
        name=customer.name,
        industry=customer.industry,
        size=customer.size,
        region=customer.region,
        address=customer.address,
        website=customer.website,
        phone=customer.phone,
        email=customer.email,
        source=customer.source,
        campaign_id=customer.campaign_id,
        level=customer.level,
        is_protected=customer.is_protected,
        note=customer.note,
        tags=tuple(customer.tags.values_list("name", flat=True)),
    )


_SORT_LABELS = {
    "-updated_at": _("Recently changed first"),
    "name": _("Company name"),
    "last_followup_at": _("Longest without a follow-up first"),
}

# --- Customers --------------------------------------------------------------------------------


class CustomerListCreateApi(APIView):
    """``GET /api/customers/``: the caller's visible customers; ``POST``: create one.

    The list always comes from ``selectors.search_customers`` (visibility, filters, search and
    the indexed sorts); query parameters are checked by ``FilterSerializer`` and an invalid one
    answers 400 with ``fields``. ``page_size`` above 200 is capped at 200 by the paginator.
    Queries per page: authentication, (a manager's team ids,) COUNT, the page with owner and team
    joined, and one for the tags of the whole page: the same for 5 rows or 200.

    Create goes through ``create_customer()``, which subclasses override. Here it calls
    ``services.create_customer``: a rep's new customer is the rep's own, a manager may name a
    member of a team they manage as ``owner``, an admin anyone (the service decides). A non-null
    ``pool`` answers 400 ``pool_not_supported``, because creating into a pool belongs to
    ``public_pool``, which ``customers`` must not import. ``public_pool/api/claims.py`` subclasses this
    view, overrides ``create_customer()`` to send ``pool`` to its own service (calling
    ``super()`` when ``pool`` is null) and is routed at ``/api/customers/`` through
    ``customers.api_urls.build_urlpatterns(list_create_view=...)``. A subclass that changes
    ``InputSerializer`` should re-declare ``post`` with its own ``extend_schema`` so the
    schema shows its fields.
    """

    pagination_class = EstimatedCountPagination

    class FilterSerializer(serializers.Serializer[Any]):
        owner = serializers.CharField(
            required=False,
            allow_blank=True,
            validators=[RegexValidator(r"^(me|\d+)$", message=_("Give a user id or “me”."))],
            help_text=_("A user id, or “me” for the caller's own customers."),
        )
        team = serializers.IntegerField(required=False, min_value=1, help_text=_("Team id."))
        level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
        stage = serializers.ChoiceField(
            choices=DealStage.choices,
            required=False,
            allow_blank=True,
            help_text=_("Customers with a deal at this stage."),
        )
        source = serializers.ChoiceField(  # type: ignore[assignment]  # a field, not Field.source
            choices=Source.choices, required=False, allow_blank=True
        )
        industry = serializers.ChoiceField(choices=Industry.choices, required=False, allow_blank=True)
        search = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text=_("Part of the company name, or an exact phone number or e-mail address."),
        )
        ordering = serializers.ChoiceField(
            choices=[(key, _SORT_LABELS.get(key, key)) for key in selectors.CUSTOMER_SORTS],
            required=False,
            allow_blank=True,
        )

    class InputSerializer(CustomerFieldsSerializer):
        owner = serializers.PrimaryKeyRelatedField(
            queryset=User.objects.filter(is_active=True),
            required=False,
            allow_null=True,
            help_text=_("Managers and admins only; default: the caller."),
        )
        pool = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text=_("Admins: create the customer as a lead in this pool instead of giving it an owner."),
        )

        class Meta:
            ref_name = "CustomerCreateInput"

    OutputSerializer = CustomerOutputSerializer

    @extend_schema(
        operation_id="customers_list",
        summary=_("List customers"),
        description=_(
            "The customers the caller may see: a rep their own, a manager their teams', an admin all. "
            "Filters combine; `page_size` is at most 200."
        ),
        parameters=[FilterSerializer],
        responses={200: CustomerOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        customers = selectors.search_customers(
            user=request.user, filters=self.customer_filters(request=request, params=params.validated_data)
        )
        return paginated_response(
            request=request, view=self, queryset=customers, serializer_class=self.OutputSerializer
        )

    @extend_schema(
        operation_id="customers_create",
        summary=_("Create a customer"),
        description=_(
            "A rep's new customer is their own. Managers may give it to a member of a team they "
            "manage with `owner`, admins to anyone."
        ),
        request=InputSerializer,
        # 404: an unknown ``pool``; 409 ``duplicate``: the company exists (``fields`` says where).
        responses={201: CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payload = dict(serializer.validated_data)
        data = services.CustomerData(**customer_data_changes(payload))
        customer = self.create_customer(request=request, data=data, payload=payload)
        return Response(self.OutputSerializer(customer).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def customer_filters(*, request: AuthedRequest, params: dict[str, Any]) -> selectors.CustomerFilters:
        owner = params.get("owner") or None
        return selectors.CustomerFilters(
            search=params.get("search", ""),
            owner=request.user.pk if owner == "me" else (int(owner) if owner else None),
            team=params.get("team"),
            level=params.get("level", ""),
            source=params.get("source", ""),
            industry=params.get("industry", ""),
            stage=params.get("stage", ""),
            sort=params.get("ordering") or selectors.DEFAULT_CUSTOMER_SORT,
        )

    def create_customer(
        self, *, request: AuthedRequest, data: services.CustomerData, payload: dict[str, Any]
    ) -> Customer:
        """Create the customer; override to support more of ``payload`` (``pool``).

        ``data`` holds the customer's details; ``payload`` is the whole validated input,
        including ``owner`` (a ``User`` or absent) and ``pool`` (an id or absent).
        """
        if payload.get("pool") is not None:
            raise PoolNotSupported()
        return services.create_customer(actor=request.user, data=data, owner=payload.get("owner"))


class CustomerDetailApi(APIView):
    """``GET/PATCH /api/customers/{id}/``: the owner, their manager and admins.

    A customer outside ``customers_visible_to`` answers 404 (before the input is even looked
    at, so a 400 never confirms it exists). PATCH is partial: the fields sent are merged into
    the stored details and the whole goes through ``services.update_customer``. ``owner`` and
    ``pool`` are not editable here: ownership changes are claim, release, assign and transfer.
    """

    class InputSerializer(CustomerFieldsSerializer):
        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            message = _(
                "Ownership cannot be edited: claim, release, assign or transfer the customer instead."
            )
            not_editable = sorted({"owner", "pool"} & set(self.initial_data))
            if not_editable:
                raise serializers.ValidationError({name: [message] for name in not_editable})
            return attrs

        class Meta:
            ref_name = "CustomerUpdateInput"

    OutputSerializer = CustomerOutputSerializer

    @extend_schema(
        operation_id="customers_retrieve",
        summary=_("Get a customer"),
        description=_("For its owner, the owner's manager and admins; 404 for anyone else."),
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, customer_id: int) -> Response:
        customer = selectors.get_visible_customer(user=request.user, customer_id=customer_id)
        return Response(self.OutputSerializer(customer).data)

    @extend_schema(
        operation_id="customers_partial_update",
        summary=_("Change a customer's details"),
        description=_(
            "Send only the fields to change. `owner` and `pool` cannot be edited: ownership changes "
            "by claim, release, assign and transfer."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthedRequest, customer_id: int) -> Response:
        customer = selectors.get_visible_customer(user=request.user, customer_id=customer_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = replace(_current_customer_data(customer), **customer_data_changes(serializer.validated_data))
        customer = services.update_customer(actor=request.user, customer=customer, data=data)
        return Response(self.OutputSerializer(customer).data)


class CustomerFollowUpsApi(APIView):
    """``GET /api/customers/{id}/follow-ups/``: newest first, paginated; ``POST``: log one.

    Both answer 404 for a customer the caller may not see. Who may log is the service's rule
    (``services.log_followup``: the owner, the owner's manager, an admin); a visible customer
    the caller may not work on answers 403 ``permission_denied``. A blank (or whitespace-only)
    note answers 400 with ``fields.note``; an ``at`` in the future or before 2000-01-01 is
    refused by the service (400 with ``fields.at``), a year-1 date included. ``at`` is answered
    in RFC 3339 (``2024-03-01T09:30:00+08:00``).
    """

    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=FollowUpKind.choices)
        note = serializers.CharField(
            max_length=10_000,
            help_text=_("What happened; required, not blank."),
            error_messages={"required": BLANK_NOTE_MESSAGE, "blank": BLANK_NOTE_MESSAGE},
        )
        at = SafeDateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text=_(
                "When it happened, RFC 3339; default: now. Not in the future, not before 2000-01-01."
            ),
        )

        class Meta:
            ref_name = "FollowUpCreateInput"

    class OutputSerializer(serializers.ModelSerializer[FollowUp]):
        customer = serializers.IntegerField(source="customer_id", read_only=True)
        by = serializers.IntegerField(source="by_id", read_only=True)
        by_name = serializers.SerializerMethodField()

        class Meta:
            model = FollowUp
            ref_name = "FollowUp"
            fields = ["id", "customer", "kind", "note", "at", "by", "by_name", "created_at"]
            read_only_fields = fields

        def get_by_name(self, followup: FollowUp) -> str:
            return followup.by.get_full_name() or followup.by.username

    @extend_schema(
        operation_id="customers_follow_ups_list",
        summary=_("List a customer's follow-ups"),
        description=_("Newest first."),
        responses={200: OutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, customer_id: int) -> Response:
        customer = selectors.get_visible_customer(user=request.user, customer_id=customer_id)
        # Visibility was settled on the customer above; its follow-ups need no further rule.
        followups = FollowUp.objects.filter(customer=customer).select_related("by").order_by("-at", "-id")
        return paginated_response(
            request=request, view=self, queryset=followups, serializer_class=self.OutputSerializer
        )

    @extend_schema(
        operation_id="customers_follow_ups_create",
        summary=_("Log a follow-up"),
        description=_(
            "For the owner, the owner's manager and admins. The note may not be blank. `at` defaults "
            "to now and may be neither in the future nor before 2000-01-01."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        customer = selectors.get_visible_customer(user=request.user, customer_id=customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup = services.log_followup(actor=request.user, customer=customer, **serializer.validated_data)
        return Response(self.OutputSerializer(followup).data, status=status.HTTP_201_CREATED)


# --- Signing in and the caller ----------------------------------------------------------------


class ObtainTokenApi(APIView):
    """``POST /api/auth/token/`` ``{"username", "password"}`` → ``{"token", "expires_at"}``;
    ``DELETE /api/auth/token/`` revokes the caller's token.

    One key per user (``customers.tokens``), returned until it is revoked or
    expires after ``settings.API_TOKEN_IDLE_DAYS`` without use, so several clients of one user
    share it. POST runs no authentication, so a stale ``Authorization`` header cannot block
    getting a new key. Wrong credentials, or an inactive user, answer 400
    ``invalid_credentials``; after too many of them django-axes locks the username and the
    address out: 429 ``locked_out`` with ``Retry-After`` (``crm_site/lockout.py``). Issuing a
    key is sign-in plumbing, not a business rule, so it has no service.
    """

    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=128, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "TokenRequest"

    class OutputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField(help_text=_("Send it as “Authorization: Token <token>”."))
        expires_at = serializers.DateTimeField(
            help_text=_("When the token stops working unless it is used again; each use moves this on.")
        )

        class Meta:
            ref_name = "Token"

    def _signing_in(self) -> bool:
        # ``request`` is None while drf-spectacular builds the schema (POST says ``auth=[]``).
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list[Any]:
        return [] if self._signing_in() else super().get_authenticators()

    def get_permissions(self) -> Sequence[Any]:
        return [AllowAny()] if self._signing_in() else super().get_permissions()

    @extend_schema(
        operation_id="auth_token_create",
        summary=_("Get an API token"),
        description=_(
            "Send the token as `Authorization: Token <token>` on every request. Too many wrong "
            "passwords for a username or from an address lock sign-in for a while: 429 "
            "`locked_out` with `Retry-After`."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = {
            "username": serializer.validated_data["username"],
            "password": serializer.validated_data["password"],
        }
        # axes reads and flags the Django request, which its middleware then answers from.
        http_request = request._request
        user = authenticate(request=http_request, **credentials)
        if user is None:
            if getattr(http_request, "axes_locked_out", False):
                raise LockedOut(
                    retry_after=retry_after_seconds(http_request, {"username": credentials["username"]})
                )
            raise DomainError(
                _("Unable to sign in with this username and password."), code="invalid_credentials"
            )
        # A successful sign-in forgets the earlier failures, as on the login page (not through
        # ``user_logged_in``: axes' access log would start a session for a token client).
        forget_failures(http_request, credentials["username"])
        token = tokens.issue_token(user)
        return Response(
            self.OutputSerializer({"token": token.key, "expires_at": tokens.expires_at(token)}).data
        )

    @extend_schema(
        operation_id="auth_token_destroy",
        summary=_("Revoke your API token"),
        description=_("Deletes the caller's token; requests with it answer 401 from then on."),
        request=None,
        responses={204: None, **error_responses(401)},
    )
    def delete(self, request: AuthedRequest) -> Response:
        tokens.revoke_token(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """``GET /api/me/``: who is calling. ``role`` is ``admin`` for superusers too."""

    class OutputSerializer(serializers.ModelSerializer[User]):
        role = serializers.SerializerMethodField()
        team = serializers.IntegerField(source="team_id", allow_null=True, read_only=True)
        team_name = serializers.SerializerMethodField()
        full_name = serializers.CharField(source="get_full_name", read_only=True)

        class Meta:
            model = User
            ref_name = "Me"
            fields = ["id", "username", "full_name", "email", "role", "team", "team_name"]
            read_only_fields = fields

        @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
        def get_role(self, user: User) -> str:
            return Role.ADMIN.value if user.is_admin else user.role

        def get_team_name(self, user: User) -> str | None:
            team = user.team
            return team.name if team is not None else None

    @extend_schema(
        operation_id="me_retrieve",
        summary=_("Who am I"),
        description=_("The caller's id, username, role and team."),
        responses={200: OutputSerializer, **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        return Response(self.OutputSerializer(request.user).data)

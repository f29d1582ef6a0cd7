"""Access helpers the pool endpoints share: permissions and the 404s that compose selectors."""

from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from customers import api as customers_api
from customers import selectors as customer_selectors
from customers.models import Customer, Role, User
from public_pool import selectors
from public_pool.models import (
    ExtensionRequest,
    Pool,
    RecycleRule,
)

CustomerOutputSerializer = customers_api.CustomerOutputSerializer


class IsManagerOrAdmin(BasePermission):
    """Managers and admins (reading recycle rules)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.role == Role.MANAGER))


class IsAdmin(BasePermission):
    """Admins only (rule preview: it counts customers of every team)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


def visible_customer_or_404(user: User, customer_id: int) -> None:
    """404 unless ``user`` sees the customer: owned and visible, or pooled in a pool they use."""
    visible = customer_selectors.customers_visible_to(user).filter(pk=customer_id).exists() or (
        selectors.pooled_customers(user=user).filter(pk=customer_id).exists()
    )
    if not visible:
        raise Http404


def visible_pool_or_404(user: User, pool_id: int) -> Pool:
    pool = selectors.pools_with_sizes(user).filter(pk=pool_id).prefetch_related("teams").first()
    if pool is None:
        raise Http404
    return pool


def visible_rule_or_404(user: User, rule_id: int) -> RecycleRule:
    rule = selectors.recycle_rules(user=user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def visible_extension_request_or_404(user: User, request_id: int) -> None:
    """A request is visible to admins, to managers of the requesting rep's team, and to the rep."""
    requests = ExtensionRequest.objects.filter(pk=request_id)
    if not user.is_admin:
        mine = Q(owner=user)
        if user.role == Role.MANAGER:
            mine |= Q(owner__team_id__in=customer_selectors.managed_team_ids(user))
        requests = requests.filter(mine)
    if not requests.exists():
        raise Http404


def user_or_field_error(user_id: int, field: str) -> User:
    """An active user by id, else 400 with ``fields`` (the input named someone who does not exist)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise serializers.ValidationError({field: [_("No such active user.")]})
    return user


def customer_response(customer: Customer, code: int = status.HTTP_200_OK) -> Response:
    return Response(CustomerOutputSerializer(customer).data, status=code)

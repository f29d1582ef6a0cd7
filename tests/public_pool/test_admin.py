"""The Django admin of the public pool: pages load, saves and actions go through the services."""

import pytest
from django.urls import reverse

from public_pool import services
from public_pool.models import (
    ExtensionRequest,
    ExtensionStatus,
    ImportBatch,
    Notification,
    Pool,
    PoolEvent,
    PriorityWeights,
    RecycleRule,
    ReleaseReason,
)
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

MODELS = [
    Pool,
    RecycleRule,
    ReleaseReason,
    PriorityWeights,
    PoolEvent,
    ExtensionRequest,
    Notification,
    ImportBatch,
]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_pool_model_has_an_admin_list(admin_client, model, rep, pool):
    services.claim_customer(rep=rep, customer_id=pooled(pool).pk)

    response = admin_client.get(reverse(f"admin:public_pool_{model._meta.model_name}_changelist"))

    assert response.status_code == 200


def test_the_event_log_is_read_only_in_the_admin(admin_client, rep, pool):
    services.claim_customer(rep=rep, customer_id=pooled(pool).pk)
    event = PoolEvent.objects.get()

    assert admin_client.get(reverse("admin:public_pool_poolevent_add")).status_code == 403
    admin_client.post(reverse("admin:public_pool_poolevent_delete", args=[event.pk]), {"post": "yes"})

    assert PoolEvent.objects.filter(pk=event.pk).exists()


def test_adding_a_rule_in_the_admin_sets_the_deadlines(
    admin_client, rep, pool, django_capture_on_commit_callbacks
):
    customer = owned(rep, pool, claimed_days_ago=3)

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse("admin:public_pool_recyclerule_add"),
            {
                "pool": pool.pk,
                "name": "Two weeks",
                "enabled": "on",
                "priority": 100,
                "no_followup_days": 14,
                "warn_days": 3,
            },
        )

    assert response.status_code == 302, response.content
    assert len(callbacks) == 1  # re-matching the pool is enqueued on commit
    services.refresh_pool_recycle_policies(pool_id=pool.pk)  # what the task does
    customer.refresh_from_db()
    assert customer.recycle_rule == RecycleRule.objects.get(name="Two weeks")
    assert customer.recycle_due_at is not None


def test_a_rule_without_a_trigger_is_refused_by_the_admin_form(admin_client, pool):
    response = admin_client.post(
        reverse("admin:public_pool_recyclerule_add"),
        {"pool": pool.pk, "name": "Nothing", "priority": 100, "warn_days": 3},
    )

    assert response.status_code == 200
    assert not RecycleRule.objects.exists()


def test_approving_an_extension_in_the_admin(admin_client, rep, pool, admin_user):
    services.create_recycle_rule(
        actor=admin_user, pool_id=pool.pk, rule=services.RuleData(name="r", no_followup_days=30)
    )
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, days=7, reason="Budget in May")

    admin_client.post(
        reverse("admin:public_pool_extensionrequest_changelist"),
        {"action": "approve", "_selected_action": [request.pk]},
    )

    request.refresh_from_db()
    assert (request.status, request.decided_by) == (ExtensionStatus.APPROVED, admin_user)

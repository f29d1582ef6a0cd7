"""Priority scores of pooled leads and the weights admins tune."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import CompanySize, Customer, Industry, Source
from public_pool import services
from public_pool.exceptions import InvalidInput, NotAllowed
from public_pool.models import PriorityWeights
from tests.factories import DealFactory, FollowUpFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


def scores(*customers):
    return [Customer.objects.get(pk=c.pk).priority_score for c in customers]


def test_better_leads_score_higher_on_each_factor(pool):
    now = timezone.now()
    strong = pooled(
        pool,
        industry=Industry.SOFTWARE,
        size=CompanySize.ENTERPRISE,
        source=Source.REFERRAL,
        created_at=now,
        last_followup_at=now - timedelta(days=1),
    )
    weak = pooled(
        pool,
        industry=Industry.OTHER,
        size=CompanySize.MICRO,
        source=Source.COLD_CALL,
        created_at=now - timedelta(days=400),
    )

    services.recompute_pool_priorities(pool_id=pool.pk)

    strong_score, weak_score = scores(strong, weak)
    assert 0 <= weak_score < strong_score <= 1000


def test_past_engagement_raises_the_score(rep, pool):
    engaged, cold = pooled(pool), pooled(pool)
    FollowUpFactory.create_batch(3, customer=engaged, by=rep)
    DealFactory(customer=engaged, owner=rep, won=True)

    services.recompute_priorities(customers=Customer.objects.filter(pool=pool))

    engaged_score, cold_score = scores(engaged, cold)
    assert engaged_score > cold_score


def test_weights_decide_what_counts(pool, admin_user, django_capture_on_commit_callbacks):
    only_size = services.WeightsData(
        industry_weight=0,
        size_weight=100,
        source_weight=0,
        level_weight=0,
        recency_weight=0,
        engagement_weight=0,
    )
    big = pooled(pool, size=CompanySize.ENTERPRISE, industry=Industry.OTHER)
    small = pooled(pool, size=CompanySize.MICRO, industry=Industry.SOFTWARE)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.update_priority_weights(actor=admin_user, pool_id=pool.pk, data=only_size)
    assert len(callbacks) == 1  # re-scoring is enqueued after commit
    services.recompute_pool_priorities(pool_id=pool.pk)  # what the task does

    assert scores(big, small) == [1000, 250]
    assert PriorityWeights.objects.get(pool=pool).size_weight == 100


def test_weights_are_validated_and_admin_only(pool, rep, admin_user):
    with pytest.raises(NotAllowed):
        services.update_priority_weights(actor=rep, pool_id=pool.pk, data=services.WeightsData())
    with pytest.raises(InvalidInput) as error:
        services.update_priority_weights(
            actor=admin_user,
            pool_id=pool.pk,
            data=services.WeightsData(size_weight=101, size_scores={"huge": 5}),
        )
    assert set(error.value.fields) == {"size_weight", "size_scores"}
    assert not PriorityWeights.objects.exists()


def test_released_leads_are_scored_at_once(rep, pool):
    customer = owned(rep, pool, industry=Industry.FINANCE, size=CompanySize.LARGE)

    services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")

    assert scores(customer)[0] > 0

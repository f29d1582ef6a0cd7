"""Words, not codes: recycle triggers, release reasons and distribution strategies are shown in
the reader's language wherever the pool log is shown; the pool page says why a lead left."""

import pytest
from django.urls import reverse

from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import RecycleRuleFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _recycled(rep, pool):
    rule = RecycleRuleFactory(pool=pool, name="Ninety days to a deal", no_deal_days=90)
    customer = pooled(pool, name="Lost Lead Ltd")
    PoolEvent.objects.create(
        customer=customer,
        kind=PoolEventKind.RECYCLE,
        from_owner=rep,
        to_pool=pool,
        reason="no_deal",
        rule=rule,
    )
    return customer


def test_the_event_log_says_the_trigger_in_words(client, manager, rep, pool):
    _recycled(rep, pool)
    client.force_login(manager)

    english = client.get(reverse("pool_manage:events")).content.decode()
    chinese = client.get(reverse("pool_manage:events"), **ZH).content.decode()

    assert "no deal won in time · Ninety days to a deal" in english
    assert "no_deal" not in english.replace('data-kind="', "")
    assert "未按时赢单" in chinese
    # The log's columns are owners and pools, not dates.
    assert '<th scope="col">来源</th>' in chinese
    assert '<th scope="col">开始日期</th>' not in chinese  # the date filter keeps 开始日期


def test_the_pool_page_says_who_had_the_lead_and_why_it_left(client, rep, other_rep, pool):
    customer = _recycled(other_rep, pool)
    client.force_login(rep)

    html = client.get(reverse("public_pool:detail", args=[pool.pk]), **ZH).content.decode()

    assert str(other_rep) in html
    assert "已被回收：Ninety days to a deal · 未按时赢单" in html
    assert f'id="lead-{customer.pk}"' in html


def test_the_quota_reads_holding_and_today(client, rep, pool):
    pool.max_held_per_rep = 60
    pool.max_claims_per_day = 10
    pool.save()
    owned(rep, pool)
    client.force_login(rep)

    html = client.get(reverse("public_pool:detail", args=[pool.pk])).content.decode()

    assert 'data-testid="quota-held">1 / 60<' in html
    assert 'data-testid="quota-today">0 / 10<' in html

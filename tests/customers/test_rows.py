"""The customer list's rows (customers.rows) say what Django's own display methods and filters
say, in both languages, and the list page writes them where the template wrote them before."""

import re
from datetime import timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Industry, Level, Tag
from customers.rows import customer_rows
from customers.selectors import CustomerFilters, search_customers
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(rep):
    now = timezone.now()
    followed = CustomerFactory(
        owner=rep, level=Level.A, industry=Industry.FINANCE, last_followup_at=now - timedelta(days=3, hours=2)
    )
    followed.tags.set([Tag.objects.create(name="VIP"), Tag.objects.create(name="华东")])
    never = CustomerFactory(owner=UserFactory(first_name="强", last_name="陈"), level=Level.C, industry="")
    pooled = CustomerFactory(pooled=True, level=Level.B, last_followup_at=now - timedelta(minutes=5))
    return [followed, never, pooled]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_row_says_what_djangos_display_methods_and_filters_say(customers, language):
    with translation.override(language):
        rows = customer_rows(customers)
        for row, customer in zip(rows, customers, strict=True):
            assert row.customer is customer
            assert row.url == reverse("customers:detail", args=[customer.pk])
            assert row.level_label == customer.get_level_display()
            assert row.industry_label == customer.get_industry_display()
            assert row.owner_name == (str(customer.owner) if customer.owner_id else "")
            assert row.tag_names == [tag.name for tag in customer.tags.all()]
            if customer.last_followup_at is None:
                assert row.followed_up is None
            else:
                assert row.followed_up is not None
                # In a template the date filter sees the moment in the reader's time zone.
                local = timezone.localtime(customer.last_followup_at)
                assert row.followed_up.iso == date_filter(local, "c")
                assert row.followed_up.minute == date_filter(local, "Y-m-d H:i")
                assert row.followed_up.ago == naturaltime(customer.last_followup_at)
    assert [row.owner_name for row in rows][1] == "陈强"
    assert rows[0].level_label != rows[2].level_label


def test_the_list_page_writes_each_rows_values(client, admin_user, customers):
    followed, never, pooled = customers
    client.force_login(admin_user)

    body = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    with translation.override("zh-hans"):
        finance, ago = str(Industry.FINANCE.label), naturaltime(followed.last_followup_at)
        level_a = str(Level.A.label)
    assert f'href="{reverse("customers:detail", args=[followed.pk])}"' in body
    assert f'title="{level_a}">A</span>' in body
    assert finance in body
    assert re.search(rf'<time datetime="[^"]+" title="[^"]+">{re.escape(ago)}</time>', body)
    assert "VIP" in body
    assert "华东" in body
    assert "从未" in body  # the row never followed up
    assert "陈强" in body
    # Admins tick owned rows to change their owner; a pooled one has no owner to change.
    assert f'value="{never.pk}" form="bulk-owner"' in body
    assert f'value="{pooled.pk}" form="bulk-owner"' not in body


def test_rows_cost_no_query_when_owner_and_tags_are_read_with_the_list(
    customers, admin_user, django_assert_num_queries
):
    listed = list(search_customers(user=admin_user, filters=CustomerFilters()))

    with django_assert_num_queries(0):
        customer_rows(listed)

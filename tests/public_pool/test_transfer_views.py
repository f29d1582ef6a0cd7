"""Managers' change-of-owner pages: transfer from the customer page with a rep picked by name,
the customer finder, bulk change of owner from the team list, and the assign page's search."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    client.force_login(user)
    return client


def test_customer_page_offers_transfer_to_its_owners_manager_only(client, manager, rep, other_rep, pool):
    customer = owned(rep, pool)
    url = reverse("customers:detail", args=[customer.pk])
    link = reverse("pool_manage:transfer_customer", args=[customer.pk])

    assert link in _login(client, manager).get(url).content.decode()
    assert link not in _login(client, rep).get(url).content.decode()


def test_rep_picker_finds_reps_by_name_family_name_first_with_load_and_room(client, manager, rep, team, pool):
    pool.max_held_per_rep = 3
    pool.save()
    chen = UserFactory(username="cq", first_name="强", last_name="陈", team=team)
    owned(chen, pool)
    UserFactory(username="other", first_name="Li", last_name="Wang", team=team)
    customer = owned(rep, pool)
    url = reverse("pool_manage:transfer_customer", args=[customer.pk])
    _login(client, manager)

    fragment = client.get(url, {"q": "陈强"}, **HX).content.decode()

    assert fragment.startswith('<div id="rep-choices"')
    assert "陈强" in fragment
    assert "Wang" not in fragment
    assert "owns 1 customer" in fragment
    assert re.search(r"East leads: holding 1 / 3", fragment)
    assert "room for 2" in fragment


def test_rep_picker_queries_do_not_grow_with_the_reps(client, manager, rep, team, pool):
    customer = owned(rep, pool)
    url = reverse("pool_manage:transfer_customer", args=[customer.pk])
    _login(client, manager)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(10):
        owned(UserFactory(username=f"extra{number}", team=team), pool)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)


def test_transfer_from_the_customer_page_moves_it_and_goes_back_with_a_message(
    client, manager, rep, other_rep, pool
):
    customer = owned(rep, pool, name="Wuxi Silk")
    response = _login(client, manager).post(
        reverse("pool_manage:transfer_customer", args=[customer.pk]), {"to_rep": other_rep.pk}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[customer.pk])
    assert f"Wuxi Silk now belongs to {other_rep}." in response.content.decode()
    customer.refresh_from_db()
    assert customer.owner_id == other_rep.pk
    assert PoolEvent.objects.filter(customer=customer, kind=PoolEventKind.TRANSFER).count() == 1


def test_transfer_past_the_limit_says_why_and_changes_nothing(client, manager, rep, other_rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    owned(other_rep, pool)
    customer = owned(rep, pool)

    response = _login(client, manager).post(
        reverse("pool_manage:transfer_customer", args=[customer.pk]), {"to_rep": other_rep.pk}
    )

    assert response.status_code == 400
    assert "limit of 1 customers held" in response.content.decode()
    customer.refresh_from_db()
    assert customer.owner_id == rep.pk
    assert not PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).exists()


def test_another_teams_customer_is_a_404_on_the_transfer_page(client, manager, other_team_rep, pool):
    customer = owned(other_team_rep, pool)
    response = _login(client, manager).get(reverse("pool_manage:transfer_customer", args=[customer.pk]))
    assert response.status_code == 404


def test_transfer_finder_lists_the_managers_customers_by_name(client, manager, rep, other_team_rep, pool):
    owned(rep, pool, name="Xiamen Ferries")
    owned(other_team_rep, pool, name="Xiamen Airlines")

    html = _login(client, manager).get(reverse("pool_manage:transfer"), {"q": "xiamen"}).content.decode()

    assert "Xiamen Ferries" in html
    assert "Xiamen Airlines" not in html
    assert "Customer number" not in html


def test_team_list_ticks_and_changes_the_owner_of_the_ticked_customers(client, manager, rep, other_rep, pool):
    ticked = [owned(rep, pool) for _ in range(2)]
    untouched = owned(rep, pool)
    _login(client, manager)
    list_page = client.get(reverse("customers:list")).content.decode()
    assert 'form="bulk-owner"' in list_page
    assert 'data-select-all="customers"' in list_page

    response = client.post(
        reverse("pool_manage:bulk_transfer"),
        {
            "scope": "picked",
            "customers": [c.pk for c in ticked],
            "to_rep": other_rep.pk,
            "next": "/customers/?q=x",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/customers/?q=x"
    assert f"2 customers now belong to {other_rep}." in response.content.decode()
    assert set(Customer.objects.filter(owner=other_rep).values_list("pk", flat=True)) == {
        c.pk for c in ticked
    }
    assert Customer.objects.get(pk=untouched.pk).owner_id == rep.pk


def test_team_list_changes_the_owner_of_all_customers_matching_the_filter(
    client, manager, rep, other_rep, pool
):
    matching = [owned(rep, pool, name=f"Harbin Ice {n}") for n in range(3)]
    other = owned(rep, pool, name="Dalian Port")

    _login(client, manager).post(
        reverse("pool_manage:bulk_transfer"), {"scope": "all", "filters": "q=harbin", "to_rep": other_rep.pk}
    )

    assert set(Customer.objects.filter(owner=other_rep).values_list("pk", flat=True)) == {
        c.pk for c in matching
    }
    assert Customer.objects.get(pk=other.pk).owner_id == rep.pk
    assert PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).count() == 3


def test_bulk_change_past_the_limit_changes_nothing_and_says_why(client, manager, rep, other_rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    ticked = [owned(rep, pool) for _ in range(2)]

    response = _login(client, manager).post(
        reverse("pool_manage:bulk_transfer"),
        {"scope": "picked", "customers": [c.pk for c in ticked], "to_rep": other_rep.pk},
        follow=True,
    )

    assert "Nothing was changed" in response.content.decode()
    assert not Customer.objects.filter(owner=other_rep).exists()
    assert not PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).exists()


def test_a_rep_may_not_bulk_change_owners(client, rep, other_rep, pool):
    customer = owned(rep, pool)
    response = _login(client, rep).post(
        reverse("pool_manage:bulk_transfer"),
        {"scope": "picked", "customers": [customer.pk], "to_rep": other_rep.pk},
    )
    assert response.status_code == 403
    assert Customer.objects.get(pk=customer.pk).owner_id == rep.pk
    assert "bulk-owner" not in _login(client, rep).get(reverse("customers:list")).content.decode()


def test_assign_page_searches_filters_and_assigns_all_matching(client, manager, rep, pool):
    wanted = [pooled(pool, name=f"Qingdao Beer {n}", industry="manufacturing") for n in range(3)]
    pooled(pool, name="Qingdao Bank", industry="finance")
    pooled(pool, name="Jinan Steel", industry="manufacturing")
    _login(client, manager)

    page = client.get(
        reverse("pool_manage:assign", args=[pool.pk]), {"q": "qingdao", "industry": "manufacturing"}
    )
    html = page.content.decode()
    assert sorted(lead.name for lead, _contact in page.context["leads"]) == sorted(c.name for c in wanted)
    assert "Jinan Steel" not in html
    assert "Qingdao Bank" not in html
    assert 'data-select-all="customers"' in html

    client.post(
        reverse("pool_manage:assign", args=[pool.pk]),
        {"scope": "all", "filters": "q=qingdao&industry=manufacturing", "rep": rep.pk},
    )

    assert set(Customer.objects.filter(owner=rep).values_list("pk", flat=True)) == {c.pk for c in wanted}


def test_bulk_bar_picker_shows_each_reps_customers_room_and_limits(client, manager, rep, other_rep, pool):
    pool.max_held_per_rep = 5
    pool.save()
    for _ in range(2):
        owned(rep, pool)
    html = _login(client, manager).get(reverse("pool_manage:bulk_owner_choices"), **HX).content.decode()

    assert re.search(
        rf'<option value="{rep.pk}">{re.escape(str(rep))} · East — 2 customers · room 3</option>', html
    )
    assert re.search(
        rf'<option value="{other_rep.pk}">{re.escape(str(other_rep))} · East — 0 customers · room 5</option>',
        html,
    )
    assert "2 / 5" in html
    assert "<html" not in html
    assert _login(client, rep).get(reverse("pool_manage:bulk_owner_choices")).status_code == 403


def test_customer_finder_pages_keep_the_search(client, manager, rep, pool):
    for number in range(21):
        owned(rep, pool, name=f"Acme {number:02d}")
    owned(rep, pool, name="Other")
    _login(client, manager)

    first = client.get(reverse("pool_manage:transfer"), {"q": "Acme"}).content.decode()
    second = client.get(reverse("pool_manage:transfer"), {"q": "Acme", "page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert 'href="?q=Acme&amp;page=2"' in first
    assert "Acme 20" in second
    assert "Acme 00" not in second
    assert 'href="?q=Acme&amp;page=1"' in second

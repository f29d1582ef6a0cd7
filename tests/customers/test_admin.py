"""The Django admin: everything registered, lists stay cheap, and writes go through services."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Deal, DealStage, FollowUp, FollowUpKind
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, TeamFactory

pytestmark = pytest.mark.django_db


class _FormReader(HTMLParser):
    """Reads the fields of the admin's main form the way a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "button", "file"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.data.setdefault(name, []).append(attributes.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attributes:
            self.data[self._select].append(attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.data[self._textarea] = ["".join(self._text).lstrip("\n")]
            self._textarea = None


def form_data(response) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(response.content.decode())
    return {name: values for name, values in reader.data.items() if name != "csrfmiddlewaretoken"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_customers_model_is_registered_in_the_admin():
    models = list(apps.get_app_config("customers").get_models())

    assert len(models) >= 11
    assert [model.__name__ for model in models if not admin.site.is_registered(model)] == []


def test_every_customers_admin_list_and_add_page_opens_for_an_admin(admin_client, admin_user, rep):
    customer = CustomerFactory(owner=rep)
    FollowUpFactory(customer=customer)
    DealFactory(customer=customer)

    for model in apps.get_app_config("customers").get_models():
        info = (model._meta.app_label, model._meta.model_name)
        assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        # A read-only record (API token uses) has no add page: the admin refuses it, not crashes.
        request = RequestFactory().get("/")
        request.user = admin_user
        can_add = admin.site._registry[model].has_add_permission(request)
        expected = 200 if can_add else 403
        assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == expected, info


def test_customer_admin_list_runs_the_same_queries_for_few_and_many_rows(admin_client, rep, other_team_rep):
    url = reverse("admin:customers_customer_changelist")
    CustomerFactory.create_batch(2, owner=rep)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200

    CustomerFactory.create_batch(15, owner=other_team_rep)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 17
    assert len(many) == len(few)


def test_customer_change_form_shows_ownership_read_only(admin_client, rep):
    customer = CustomerFactory(owner=rep)

    response = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert response.status_code == 200
    fields = form_data(response)
    assert "name" in fields
    assert not {"owner", "team", "pool"} & fields.keys()
    assert "public-pool operations" in response.content.decode()


def test_editing_a_customer_in_the_admin_goes_through_the_service_and_cannot_move_it(
    admin_client, rep, other_team_rep
):
    customer = CustomerFactory(owner=rep, name="Old Name Ltd")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = form_data(admin_client.get(url))
    data.update(
        name=["  Acme Trading Co., Ltd. "], owner=[str(other_team_rep.pk)], phone=["+86 138-0000-1111"]
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.name == "Acme Trading Co., Ltd."
    assert customer.name_normalized == "acmetrading"  # normalised by customers.services
    assert customer.phone == "+8613800001111"
    assert (customer.owner, customer.team) == (rep, rep.team)


def test_adding_a_customer_in_the_admin_gives_it_the_owners_team(admin_client, admin_user, rep):
    url = reverse("admin:customers_customer_add")
    data = form_data(admin_client.get(url))
    data.update(name=["Beijing Newco 有限公司"], owner=[str(rep.pk)], source=["referral"], level=["B"])

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="Beijing Newco 有限公司")
    assert (customer.owner, customer.team, customer.created_by) == (rep, rep.team, admin_user)
    assert customer.name_normalized == "beijingnewco"
    assert customer.claimed_at is not None


def test_adding_a_customer_without_an_owner_is_refused_and_creates_nothing(admin_client):
    url = reverse("admin:customers_customer_add")
    data = form_data(admin_client.get(url))
    data.update(name=["Nobody's Lead"], source=["referral"], level=["B"])

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    assert not Customer.objects.exists()


def test_customer_history_inlines_show_only_the_newest_rows(admin_client, rep):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for days in range(15):
        FollowUpFactory(customer=customer, at=now - timedelta(days=days), note=f"note {days}")

    response = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert form_data(response)["followups-TOTAL_FORMS"] == ["10"]
    content = response.content.decode()
    assert "note 9" in content
    assert "note 10" not in content
    assert f"?customer__id__exact={customer.pk}" in content


def test_admin_search_finds_customers_by_name_part_and_exact_phone(admin_client, rep):
    acme = CustomerFactory(owner=rep, name="Acme Robotics", phone="13812345678")
    CustomerFactory(owner=rep, name="Globex", phone="13900000000")
    url = reverse("admin:customers_customer_changelist")

    by_name = admin_client.get(url, {"q": "robot"}).context["cl"].result_list
    by_phone = admin_client.get(url, {"q": "138 1234 5678"}).context["cl"].result_list

    assert list(by_name) == [acme]
    assert list(by_phone) == [acme]


def test_logging_a_follow_up_in_the_admin_moves_last_followup_at(admin_client, admin_user, rep):
    customer = CustomerFactory(owner=rep, last_followup_at=None)
    url = reverse("admin:customers_followup_add")
    data = form_data(admin_client.get(url))
    at = timezone.localtime() - timedelta(hours=1)
    data.update(
        customer=[str(customer.pk)],
        kind=[FollowUpKind.VISIT],
        note=["Visited the plant"],
        at_0=[at.strftime("%Y-%m-%d")],
        at_1=[at.strftime("%H:%M:%S")],
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    followup = FollowUp.objects.get(customer=customer)
    assert (followup.by, followup.kind) == (admin_user, FollowUpKind.VISIT)
    customer.refresh_from_db()
    assert customer.last_followup_at == followup.at


def test_mark_won_action_moves_deals_through_the_service(admin_client, rep):
    customer = CustomerFactory(owner=rep, first_won_at=None)
    deal = DealFactory(customer=customer, stage=DealStage.NEGOTIATION)

    response = admin_client.post(
        reverse("admin:customers_deal_changelist"),
        {"action": "mark_won", "_selected_action": [deal.pk]},
    )

    assert response.status_code == 302
    deal.refresh_from_db()
    customer.refresh_from_db()
    assert deal.stage == DealStage.WON
    assert deal.closed_at is not None
    assert customer.first_won_at == deal.closed_at


def test_changing_a_deal_stage_in_the_admin_sets_closed_at(admin_client, rep):
    deal = DealFactory(customer=CustomerFactory(owner=rep), stage=DealStage.PROPOSAL)
    url = reverse("admin:customers_deal_change", args=[deal.pk])
    data = form_data(admin_client.get(url))
    data.update(stage=[DealStage.LOST], title=["Renamed deal"])

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    deal = Deal.objects.get(pk=deal.pk)
    assert (deal.stage, deal.title) == (DealStage.LOST, "Renamed deal")
    assert deal.closed_at is not None


def test_moving_a_rep_to_another_team_in_the_admin_moves_their_customers_team(admin_client, rep, other_rep):
    mine = CustomerFactory.create_batch(3, owner=rep)
    colleagues = CustomerFactory(owner=other_rep)
    new_team = TeamFactory(name="North")
    url = reverse("admin:customers_user_change", args=[rep.pk])
    data = form_data(admin_client.get(url))
    data["team"] = [str(new_team.pk)]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert {customer.team_id for customer in Customer.objects.filter(pk__in=[c.pk for c in mine])} == {
        new_team.pk
    }
    colleagues.refresh_from_db()
    assert colleagues.team_id == other_rep.team_id


def test_user_admin_edits_role_team_and_away(admin_client, rep):
    response = admin_client.get(reverse("admin:customers_user_change", args=[rep.pk]))

    assert {"role", "team", "is_away", "phone"} <= response.context["adminform"].form.fields.keys()
    assert {"role", "team", "is_away"} <= set(admin.site.get_model_admin(type(rep)).list_filter)


def test_unfiltered_big_table_list_uses_the_row_estimate_instead_of_count(admin_client, rep, monkeypatch):
    from customers.admin import EstimatedCountPaginator

    CustomerFactory.create_batch(5, owner=rep)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", 1)
    url = reverse("admin:customers_customer_changelist")

    with CaptureQueriesContext(connection) as unfiltered:
        assert admin_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert admin_client.get(url, {"level__exact": "C"}).status_code == 200

    counts = [query["sql"] for query in unfiltered if "COUNT(" in query["sql"].upper()]
    assert not [sql for sql in counts if "customers_customer" in sql]
    assert [
        query
        for query in filtered
        if "COUNT(" in query["sql"].upper() and "customers_customer" in query["sql"]
    ]

"""The customer pages: who sees what, forms that reject bad input, htmx, query budgets, language."""

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, Customer, Deal, DealStage, FollowUp, Level, Tag
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DealFactory,
    FeedbackFactory,
    FollowUpFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _detail(customer):
    return reverse("customers:detail", args=[customer.pk])


def _listed_names(response):
    return {customer.name for customer in response.context["customers"]}


# --- sign-in and navigation ----------------------------------------------------------------------


def test_pages_send_anonymous_visitors_to_the_login_page(client, rep):
    customer = CustomerFactory(owner=rep)

    for url in (reverse("home"), reverse("customers:list"), _detail(customer), reverse("customers:pipeline")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_rep_logs_in_through_the_form_and_lands_on_home(client, rep):
    response = client.post(reverse("login"), {"username": "rep", "password": "pw"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["user"] == rep


def test_wrong_password_shows_an_error_and_does_not_log_in(client, rep):
    response = client.post(reverse("login"), {"username": "rep", "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_that_ends_the_session(as_user, rep):
    client = as_user(rep)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_navigation_fits_the_role(as_user, rep, manager, admin_user):
    rep_page = as_user(rep).get(reverse("home")).content.decode()
    assert "My customers" in rep_page
    assert "Team views" not in rep_page
    assert reverse("admin:index") not in rep_page

    manager_page = as_user(manager).get(reverse("home")).content.decode()
    assert "Team customers" in manager_page
    assert "Team views" in manager_page
    assert reverse("admin:index") not in manager_page

    admin_page = as_user(admin_user).get(reverse("home")).content.decode()
    assert "All customers" in admin_page
    assert reverse("admin:index") in admin_page


def test_home_counts_only_what_the_user_sees(as_user, rep, other_rep):
    mine = CustomerFactory(owner=rep, last_followup_at=None)
    CustomerFactory(owner=other_rep)
    FollowUpFactory(customer=mine, at=timezone.now())
    DealFactory(customer=mine, amount=Decimal("500"))
    DealFactory(customer=CustomerFactory(owner=other_rep), amount=Decimal("900"))

    response = as_user(rep).get(reverse("home"))

    figures = {
        key: response.context[key] for key in ("customer_count", "followups_this_week", "open_deal_count")
    }
    assert figures == {"customer_count": 1, "followups_this_week": 1, "open_deal_count": 1}
    assert response.context["open_deal_amount"] == Decimal("500")
    assert [customer.pk for customer in response.context["attention"]] == [mine.pk]


def test_home_counts_everything_for_an_admin(as_user, admin_user, rep, other_team_rep):
    for owner in (rep, other_team_rep):
        customer = CustomerFactory(owner=owner)
        FollowUpFactory(customer=customer, at=timezone.now())
        DealFactory(customer=customer, amount=Decimal("100"))
    DealFactory(customer=CustomerFactory(pooled=True), owner=rep, amount=Decimal("7"))  # a former owner's

    response = as_user(admin_user).get(reverse("home"))

    assert (response.context["followups_this_week"], response.context["open_deal_count"]) == (2, 3)
    assert response.context["open_deal_amount"] == Decimal("207")


def test_home_runs_a_constant_number_of_queries(as_user, manager, rep, other_rep):
    client = as_user(manager)
    DealFactory(customer=FollowUpFactory(customer__owner=rep).customer)
    client.get(reverse("home"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for owner in (rep, other_rep) * 10:
        customer = CustomerFactory(owner=owner)
        FollowUpFactory(customer=customer)
        DealFactory(customer=customer)

    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))

    assert len(many) == len(few)


# --- visibility: list ----------------------------------------------------------------------------


def test_list_shows_a_rep_only_their_own_customers(as_user, rep, other_rep):
    CustomerFactory(owner=rep, name="Mine Ltd")
    CustomerFactory(owner=other_rep, name="Theirs Ltd")

    response = as_user(rep).get(reverse("customers:list"))

    assert _listed_names(response) == {"Mine Ltd"}


def test_list_shows_a_manager_the_team_but_not_other_teams(as_user, manager, rep, other_rep, other_team_rep):
    CustomerFactory(owner=rep, name="Ours A")
    CustomerFactory(owner=other_rep, name="Ours B")
    CustomerFactory(owner=other_team_rep, name="West Co")

    response = as_user(manager).get(reverse("customers:list"))

    assert _listed_names(response) == {"Ours A", "Ours B"}


def test_list_shows_an_admin_everyone(as_user, admin_user, rep, other_team_rep):
    CustomerFactory(owner=rep, name="East Co")
    CustomerFactory(owner=other_team_rep, name="West Co")

    response = as_user(admin_user).get(reverse("customers:list"))

    assert _listed_names(response) == {"East Co", "West Co"}


def test_a_rep_cannot_widen_the_list_with_an_owner_filter(as_user, rep, other_rep):
    CustomerFactory(owner=other_rep, name="Theirs Ltd")

    response = as_user(rep).get(reverse("customers:list"), {"owner": other_rep.pk})

    assert response.status_code == 200
    assert _listed_names(response) == set()


def test_list_searches_filters_and_sorts(as_user, manager, rep, other_rep):
    CustomerFactory(owner=rep, name="Alpha Robotics", level=Level.A)
    CustomerFactory(owner=rep, name="Beta Robotics", level=Level.B)
    CustomerFactory(owner=other_rep, name="Gamma Robotics", level=Level.A)
    CustomerFactory(owner=rep, name="Delta Foods", level=Level.A)
    client = as_user(manager)

    response = client.get(reverse("customers:list"), {"q": "robotics", "level": "A", "sort": "name"})
    assert [c.name for c in response.context["customers"]] == ["Alpha Robotics", "Gamma Robotics"]

    response = client.get(reverse("customers:list"), {"q": "robotics", "owner": rep.pk, "sort": "name"})
    assert [c.name for c in response.context["customers"]] == ["Alpha Robotics", "Beta Robotics"]


def test_list_filters_by_deal_stage(as_user, rep):
    negotiating = CustomerFactory(owner=rep, name="Negotiating Co")
    DealFactory(customer=negotiating, stage=DealStage.NEGOTIATION)
    CustomerFactory(owner=rep, name="Quiet Co")

    response = as_user(rep).get(reverse("customers:list"), {"stage": "negotiation"})

    assert _listed_names(response) == {"Negotiating Co"}


def test_admin_filters_the_list_by_team(as_user, admin_user, rep, other_team_rep):
    CustomerFactory(owner=rep, name="East Co")
    CustomerFactory(owner=other_team_rep, name="West Co")

    response = as_user(admin_user).get(reverse("customers:list"), {"team": other_team_rep.team_id})

    assert _listed_names(response) == {"West Co"}


def test_invalid_filter_values_are_ignored_with_a_message(as_user, rep):
    CustomerFactory(owner=rep, name="Mine Ltd")

    response = as_user(rep).get(
        reverse("customers:list"),
        {"level": "Z", "sort": "drop table", "page_size": "7", "page": "abc", "stage": "x", "owner": "me"},
    )

    assert response.status_code == 200
    assert _listed_names(response) == {"Mine Ltd"}
    assert response.context["page"].paginator.per_page == 25
    assert set(response.context["ignored_filters"]) >= {"Level", "Sort by", "Per page", "Deal stage"}
    assert "were not understood" in response.content.decode()


def test_list_paginates_with_the_chosen_page_size(as_user, rep):
    for number in range(12):
        CustomerFactory(owner=rep, name=f"Company {number:02d}")

    response = as_user(rep).get(reverse("customers:list"), {"page_size": 10, "page": 2, "sort": "name"})

    page = response.context["page"]
    assert (page.paginator.count, page.number, page.paginator.num_pages) == (12, 2, 2)
    assert [c.name for c in page.object_list] == ["Company 10", "Company 11"]
    assert "page 2 of 2" in response.content.decode()


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
def test_list_runs_the_same_queries_for_10_and_100_rows(request, as_user, who, rep, other_rep, manager):
    tags = [Tag.objects.create(name=f"tag{number}") for number in range(5)]
    owners = [rep] * 120 + [other_rep] * 20 + [manager] * 20
    for number, owner in enumerate(owners):
        customer = CustomerFactory(owner=owner, last_followup_at=timezone.now())
        customer.tags.set(tags[: number % 4 + 1])
    client = as_user(request.getfixturevalue(who))
    client.get(reverse("customers:list"))  # warm the session

    counts = {}
    for page_size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("customers:list"), {"page_size": page_size, "q": "Company"})
        assert len(response.context["customers"]) == page_size
        counts[page_size] = len(queries)

    assert counts[10] == counts[100]
    assert counts[100] <= 8


# --- visibility: detail, edit, actions ----------------------------------------------------------


def test_detail_is_404_for_another_reps_customer(as_user, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)

    assert as_user(rep).get(_detail(theirs)).status_code == 404


def test_detail_is_shown_to_the_owner_the_manager_and_an_admin(as_user, rep, manager, admin_user):
    mine = CustomerFactory(owner=rep, name="Visible Co")

    for user in (rep, manager, admin_user):
        response = as_user(user).get(_detail(mine))
        assert response.status_code == 200
        assert "Visible Co" in response.content.decode()


def test_manager_gets_404_for_another_teams_customer(as_user, manager, other_team_rep):
    west = CustomerFactory(owner=other_team_rep)
    client = as_user(manager)

    assert client.get(_detail(west)).status_code == 404
    assert client.get(reverse("customers:edit", args=[west.pk])).status_code == 404
    response = client.post(reverse("customers:log_followup", args=[west.pk]), {"kind": "call"})
    assert response.status_code == 404
    assert not FollowUp.objects.exists()


def test_edit_is_404_for_another_reps_customer_and_changes_nothing(as_user, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep, name="Theirs Ltd")
    client = as_user(rep)
    url = reverse("customers:edit", args=[theirs.pk])

    assert client.get(url).status_code == 404
    response = client.post(url, {"name": "Hijacked", "source": "other", "level": "C"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs Ltd"


def test_followup_post_is_404_for_another_reps_customer(as_user, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep, last_followup_at=None)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[theirs.pk]), {"kind": "call", "note": "hi"}, **HTMX
    )

    assert response.status_code == 404
    assert not FollowUp.objects.exists()
    theirs.refresh_from_db()
    assert theirs.last_followup_at is None


def test_deal_and_contact_actions_are_404_for_another_reps_customer(as_user, rep, other_rep):
    theirs = CustomerFactory(owner=other_rep)
    deal = DealFactory(customer=theirs)
    client = as_user(rep)

    responses = [
        client.post(
            reverse("customers:add_deal", args=[theirs.pk]), {"title": "X", "amount": "1", "stage": "lead"}
        ),
        client.post(reverse("customers:move_deal", args=[theirs.pk, deal.pk]), {"stage": "won"}),
        client.post(reverse("customers:add_contact", args=[theirs.pk]), {"name": "Spy"}),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404]
    deal.refresh_from_db()
    assert (deal.stage, Deal.objects.count(), Contact.objects.count()) == (DealStage.LEAD, 1, 0)


def test_a_deal_cannot_be_moved_through_another_customers_url(as_user, rep, other_rep):
    mine = CustomerFactory(owner=rep)
    their_deal = DealFactory(customer=CustomerFactory(owner=other_rep))

    response = as_user(rep).post(
        reverse("customers:move_deal", args=[mine.pk, their_deal.pk]), {"stage": "won"}
    )

    assert response.status_code == 404
    their_deal.refresh_from_db()
    assert their_deal.stage == DealStage.LEAD


def test_admin_may_work_on_any_customer(as_user, admin_user, other_team_rep):
    west = CustomerFactory(owner=other_team_rep)
    client = as_user(admin_user)

    assert client.get(reverse("customers:edit", args=[west.pk])).status_code == 200
    response = client.post(
        reverse("customers:log_followup", args=[west.pk]), {"kind": "visit", "note": "Visited"}
    )

    assert response.status_code == 302
    assert FollowUp.objects.get().by == admin_user


# --- detail page ---------------------------------------------------------------------------------


def test_detail_timeline_merges_followups_deals_and_feedback_newest_first(as_user, rep):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    FollowUpFactory(customer=customer, note="first call", at=now - timedelta(days=3))
    deal = DealFactory(customer=customer, title="Big order", created_at=now - timedelta(days=2))
    Deal.objects.filter(pk=deal.pk).update(stage=DealStage.WON, closed_at=now - timedelta(hours=1))
    FeedbackFactory(customer=customer, nps=10, at=now - timedelta(days=1))
    ContactFactory(customer=customer, name="Li Lei")

    response = as_user(rep).get(_detail(customer))

    types = [entry.type for entry in response.context["timeline"]]
    assert types == ["deal_won", "feedback", "deal_created", "followup"]
    page = response.content.decode()
    assert "Li Lei" in page
    assert "first call" in page


def test_detail_queries_do_not_grow_with_the_history(as_user, rep):
    customer = CustomerFactory(owner=rep)
    client = as_user(rep)
    FollowUpFactory(customer=customer)
    DealFactory(customer=customer)
    client.get(_detail(customer))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(_detail(customer))

    FollowUpFactory.create_batch(70, customer=customer)
    FeedbackFactory.create_batch(5, customer=customer)
    DealFactory.create_batch(5, customer=customer)
    ContactFactory.create_batch(3, customer=customer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(_detail(customer))

    assert len(many) == len(few)
    assert len(response.context["timeline"]) == 50


# --- log a follow-up in place ---------------------------------------------------------------------


def test_htmx_followup_returns_the_fragment_and_moves_last_followup(as_user, rep):
    customer = CustomerFactory(owner=rep, last_followup_at=None)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]),
        {"kind": "meeting", "note": "Demo went well"},
        **HTMX,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # a fragment, not the whole page
    assert 'id="followup-form"' in page
    assert 'id="timeline" hx-swap-oob="true"' in page
    assert "Demo went well" in page
    assert 'name="note"' in page
    assert "Demo went well</textarea>" not in page  # the form is cleared
    followup = FollowUp.objects.get()
    assert (followup.kind, followup.by, followup.customer) == ("meeting", rep, customer)
    customer.refresh_from_db()
    assert customer.last_followup_at == followup.at


def test_followup_without_javascript_redirects_back_to_the_timeline(as_user, rep):
    customer = CustomerFactory(owner=rep)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]), {"kind": "call", "note": "Called"}
    )

    assert response.status_code == 302
    assert response.url == f"{_detail(customer)}#timeline"
    assert FollowUp.objects.count() == 1


def test_followup_with_a_bad_kind_shows_the_error_and_saves_nothing(as_user, rep):
    customer = CustomerFactory(owner=rep, last_followup_at=None)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]), {"kind": "telepathy"}, **HTMX
    )

    assert response.status_code == 200
    assert response.context["followup_form"].errors["kind"]
    assert "is-invalid" in response.content.decode() or "invalid-feedback" in response.content.decode()
    assert not FollowUp.objects.exists()
    customer.refresh_from_db()
    assert customer.last_followup_at is None


def test_followup_in_the_future_is_refused_by_the_service_and_saves_nothing(as_user, rep):
    customer = CustomerFactory(owner=rep, last_followup_at=None)
    tomorrow = timezone.localtime() + timedelta(days=1)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]),
        {"kind": "call", "note": "Called", "at": tomorrow.strftime("%Y-%m-%dT%H:%M")},
    )

    assert response.status_code == 200  # the whole page again, without JavaScript
    assert "cannot be in the future" in str(response.context["followup_form"].errors["at"])
    assert not FollowUp.objects.exists()
    customer.refresh_from_db()
    assert customer.last_followup_at is None


@pytest.mark.parametrize("note", ["", "   \n  "])
def test_a_blank_followup_note_is_refused_in_place_and_saves_nothing(as_user, rep, note):
    customer = CustomerFactory(owner=rep, last_followup_at=None)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]), {"kind": "call", "note": note}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="followup_note_errors"' in body
    assert "Write what happened: the note cannot be empty." in body
    assert 'aria-invalid="true"' in body
    assert not FollowUp.objects.exists()
    customer.refresh_from_db()
    assert customer.last_followup_at is None


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "1999-12-31T23:59"])
def test_a_followup_before_2000_is_refused_not_a_server_error(as_user, rep, at):
    customer = CustomerFactory(owner=rep, last_followup_at=None)

    response = as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]),
        {"kind": "call", "note": "Hi", "at": at},
        **HTMX,
    )

    assert response.status_code == 200
    assert response.context["followup_form"].errors["at"]
    assert not FollowUp.objects.exists()


def test_followup_date_is_read_in_the_company_time_zone(as_user, rep, settings):
    customer = CustomerFactory(owner=rep)

    as_user(rep).post(
        reverse("customers:log_followup", args=[customer.pk]),
        {"kind": "call", "note": "Called", "at": "2024-03-01T09:30"},
    )

    at = FollowUp.objects.get().at
    assert timezone.localtime(at).strftime("%Y-%m-%d %H:%M") == "2024-03-01 09:30"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert at.astimezone(UTC).hour == 1


# --- contacts and deals in place ------------------------------------------------------------------


def test_htmx_add_contact_returns_the_contacts_panel(as_user, rep):
    customer = CustomerFactory(owner=rep)

    response = as_user(rep).post(
        reverse("customers:add_contact", args=[customer.pk]),
        {"name": "Han Meimei", "email": "Han@Example.com", "is_primary": "on"},
        **HTMX,
    )

    assert response.status_code == 200
    assert 'id="contacts"' in response.content.decode()
    contact = Contact.objects.get()
    assert (contact.name, contact.email, contact.is_primary) == ("Han Meimei", "han@example.com", True)


def test_add_contact_with_a_bad_email_saves_nothing(as_user, rep):
    customer = CustomerFactory(owner=rep)

    response = as_user(rep).post(
        reverse("customers:add_contact", args=[customer.pk]), {"name": "X", "email": "not-an-email"}, **HTMX
    )

    assert response.status_code == 200
    assert response.context["contact_form"].errors["email"]
    assert not Contact.objects.exists()


def test_add_deal_and_move_it_to_won(as_user, rep):
    customer = CustomerFactory(owner=rep)
    client = as_user(rep)

    response = client.post(
        reverse("customers:add_deal", args=[customer.pk]),
        {"title": "Pilot", "amount": "12000.50", "stage": "proposal"},
        **HTMX,
    )
    assert response.status_code == 200
    deal = Deal.objects.get()
    assert (deal.title, deal.amount, deal.stage) == ("Pilot", Decimal("12000.50"), DealStage.PROPOSAL)

    response = client.post(
        reverse("customers:move_deal", args=[customer.pk, deal.pk]), {"stage": "won"}, **HTMX
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="deals"' in page
    assert 'id="timeline" hx-swap-oob="true"' in page
    deal.refresh_from_db()
    customer.refresh_from_db()
    assert deal.stage == DealStage.WON
    assert customer.first_won_at == deal.closed_at


def test_add_deal_with_a_negative_amount_saves_nothing(as_user, rep):
    customer = CustomerFactory(owner=rep)

    response = as_user(rep).post(
        reverse("customers:add_deal", args=[customer.pk]), {"title": "Bad", "amount": "-5", "stage": "lead"}
    )

    assert response.status_code == 200
    assert response.context["deal_form"].errors["amount"]
    assert not Deal.objects.exists()


def test_moving_a_deal_to_an_unknown_stage_changes_nothing(as_user, rep):
    deal = DealFactory(customer=CustomerFactory(owner=rep))

    response = as_user(rep).post(
        reverse("customers:move_deal", args=[deal.customer_id, deal.pk]), {"stage": "teleported"}, **HTMX
    )

    assert response.status_code == 200
    assert response.context["stage_form"].errors["stage"]
    deal.refresh_from_db()
    assert deal.stage == DealStage.LEAD


# --- create and edit -------------------------------------------------------------------------------


def _customer_post(**overrides):
    data = {
        "name": "Shanghai Star Tech",
        "source": "website",
        "level": "B",
        "email": "hi@star.cn",
        "tags": "vip, 华东",
    }
    data.update(overrides)
    return data


def test_rep_creates_a_customer_they_own(as_user, rep):
    response = as_user(rep).post(reverse("customers:create"), _customer_post(owner=999))

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response.url == _detail(customer)
    assert (customer.name, customer.owner, customer.team, customer.level) == (
        "Shanghai Star Tech",
        rep,
        rep.team,
        "B",
    )
    assert set(customer.tags.values_list("name", flat=True)) == {"vip", "华东"}


def test_manager_chooses_the_owner_on_create(as_user, manager, rep):
    response = as_user(manager).post(reverse("customers:create"), _customer_post(owner=rep.pk))

    assert response.status_code == 302
    assert Customer.objects.get().owner == rep


def test_manager_cannot_give_a_new_customer_to_another_team(as_user, manager, other_team_rep):
    response = as_user(manager).post(reverse("customers:create"), _customer_post(owner=other_team_rep.pk))

    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("name", "   "), ("email", "not-an-email"), ("level", "Z"), ("website", "not a url")],
)
def test_create_with_bad_input_shows_field_errors_and_saves_nothing(as_user, rep, field, value):
    response = as_user(rep).post(reverse("customers:create"), _customer_post(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "is-invalid" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Tag.objects.exists()


def test_edit_saves_changes(as_user, rep):
    customer = CustomerFactory(owner=rep, name="Old Name")

    response = as_user(rep).post(
        reverse("customers:edit", args=[customer.pk]), _customer_post(name="New Name", tags="a\uff0cb")
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New Name"
    assert set(customer.tags.values_list("name", flat=True)) == {"a", "b"}


def test_edit_with_bad_input_changes_nothing(as_user, rep):
    customer = CustomerFactory(owner=rep, name="Keep Me", email="keep@me.cn")
    customer.tags.add(Tag.objects.create(name="keep"))
    before = customer.updated_at

    response = as_user(rep).post(
        reverse("customers:edit", args=[customer.pk]), _customer_post(name="", email="bad", tags="new")
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "email"}
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.updated_at) == ("Keep Me", "keep@me.cn", before)
    assert list(customer.tags.values_list("name", flat=True)) == ["keep"]


def test_edit_form_shows_the_current_values(as_user, rep):
    customer = CustomerFactory(owner=rep, name="Current Co")
    customer.tags.add(Tag.objects.create(name="hot"))

    response = as_user(rep).get(reverse("customers:edit", args=[customer.pk]))

    form = response.context["form"]
    assert (form["name"].value(), form["tags"].value()) == ("Current Co", "hot")
    assert "is_protected" not in form.fields  # only managers and admins protect customers


# --- pipeline --------------------------------------------------------------------------------------


def test_pipeline_shows_visible_deals_by_stage(as_user, rep, other_rep):
    DealFactory(customer=CustomerFactory(owner=rep), amount=Decimal("100"), stage=DealStage.PROPOSAL)
    DealFactory(customer=CustomerFactory(owner=other_rep), amount=Decimal("999"), stage=DealStage.PROPOSAL)

    response = as_user(rep).get(reverse("customers:pipeline"))

    proposal = next(column for column in response.context["columns"] if column.stage == "proposal")
    assert (proposal.count, proposal.amount) == (1, Decimal("100"))
    assert not response.context["show_filter"]


def test_manager_filters_the_pipeline_by_rep(as_user, manager, rep, other_rep, other_team_rep):
    DealFactory(customer=CustomerFactory(owner=rep), stage=DealStage.LEAD)
    DealFactory(customer=CustomerFactory(owner=other_rep), stage=DealStage.LEAD)
    client = as_user(manager)

    team = client.get(reverse("customers:pipeline"))
    one = client.get(reverse("customers:pipeline"), {"owner": rep.pk})
    outsider = client.get(reverse("customers:pipeline"), {"owner": other_team_rep.pk})

    def lead_count(response):
        return next(c.count for c in response.context["columns"] if c.stage == "lead")

    assert (lead_count(team), lead_count(one), lead_count(outsider)) == (2, 1, 2)


def test_an_admins_pipeline_shows_every_deal(as_user, admin_user, rep, other_team_rep):
    for owner in (rep, other_team_rep, None):
        customer = CustomerFactory(owner=owner) if owner else CustomerFactory(pooled=True)
        DealFactory(customer=customer, owner=rep, stage=DealStage.PROPOSAL, amount=Decimal("10"))

    response = as_user(admin_user).get(reverse("customers:pipeline"))

    proposal = next(column for column in response.context["columns"] if column.stage == "proposal")
    assert (proposal.count, proposal.amount, len(proposal.deals)) == (3, Decimal("30"), 3)


def test_pipeline_runs_a_constant_number_of_queries(as_user, manager, rep, other_rep):
    client = as_user(manager)
    client.get(reverse("customers:pipeline"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("customers:pipeline"))
    for number in range(30):
        owner = (rep, other_rep)[number % 2]
        stage = DealStage.values[number % 6]
        closed_at = timezone.now() if stage in DealStage.closed_stages() else None
        DealFactory(customer=CustomerFactory(owner=owner), stage=stage, closed_at=closed_at)

    with CaptureQueriesContext(connection) as many:
        client.get(reverse("customers:pipeline"))

    assert len(many) == len(few)


# --- language --------------------------------------------------------------------------------------


def test_list_renders_in_chinese_when_the_browser_asks_for_it(as_user, rep):
    response = as_user(rep).get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    assert '<html lang="zh-hans"' in response.content.decode()


def test_language_cookie_picks_chinese(as_user, rep, settings):
    client = as_user(rep)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get(reverse("customers:list"))

    assert '<html lang="zh-hans"' in response.content.decode()


def test_language_switch_keeps_the_current_page(as_user, rep):
    customer = CustomerFactory(owner=rep)
    client = as_user(rep)

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": _detail(customer)})

    assert response.status_code == 302
    assert response.url == _detail(customer)
    assert '<html lang="zh-hans"' in client.get(_detail(customer)).content.decode()


def test_pages_write_nothing_on_get(as_user, rep):
    """The pages only read: a GET of every page writes nothing."""
    customer = CustomerFactory(owner=rep)
    UserFactory()
    client = as_user(rep)
    client.get(reverse("home"))

    with CaptureQueriesContext(connection) as queries:
        for url in (
            reverse("home"),
            reverse("customers:list"),
            _detail(customer),
            reverse("customers:pipeline"),
        ):
            assert client.get(url).status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []

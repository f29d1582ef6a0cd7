"""Manager and admin pages of the public pool (``/pool/manage/``)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from customers.models import Customer
from public_pool import services
from public_pool.models import (
    ExtensionRequest,
    ExtensionStatus,
    Pool,
    PoolEvent,
    PoolEventKind,
    PriorityWeights,
    RecycleRule,
    ReleaseReason,
)
from tests.factories import RecycleRuleFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


# --- permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("pool_manage:index", {}),
        ("pool_manage:assign", {"pool_id": 0}),
        ("pool_manage:events", {}),
        ("pool_manage:events_csv", {}),
        ("pool_manage:extensions", {}),
        ("pool_manage:transfer", {}),
        ("pool_manage:rules", {"pool_id": 0}),
    ],
)
def test_rep_is_refused_every_manage_page(client, rep, pool, name, kwargs):
    kwargs = dict.fromkeys(kwargs, pool.pk)
    response = _login(client, rep).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


def test_manager_is_refused_admin_rule_pages(client, manager, pool):
    rule = RecycleRuleFactory(pool=pool)
    assert _login(client, manager).get(reverse("pool_manage:rules", args=[pool.pk])).status_code == 403
    assert client.get(reverse("pool_manage:rule_edit", args=[rule.pk])).status_code == 403


def test_other_teams_manager_gets_404_for_a_pool_not_theirs(client, pool, other_team_rep):
    west_manager = other_team_rep.team.manager
    lead = pooled(pool)
    response = _login(client, west_manager).post(
        reverse("pool_manage:assign", args=[pool.pk]), {"customers": [lead.pk], "rep": other_team_rep.pk}
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.owner_id is None


def test_other_teams_manager_cannot_assign_to_reps_not_theirs(client, pool, rep, other_team_rep):
    pool.teams.add(other_team_rep.team)
    west_manager = other_team_rep.team.manager
    lead = pooled(pool)
    response = _login(client, west_manager).post(
        reverse("pool_manage:assign", args=[pool.pk]), {"customers": [lead.pk], "rep": rep.pk}
    )
    assert response.status_code == 400
    assert "rep" in response.context["form"].errors
    lead.refresh_from_db()
    assert lead.owner_id is None
    assert lead.pool_id == pool.pk
    assert not PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN).exists()


# --- bulk assign --------------------------------------------------------------------------------


def test_assign_page_shows_each_reps_load_against_the_limit(client, manager, rep, other_rep, pool):
    pool.max_held_per_rep = 3
    pool.save()
    owned(rep, pool)
    owned(rep, pool)
    response = _login(client, manager).get(reverse("pool_manage:assign", args=[pool.pk]))
    assert response.status_code == 200
    loads = {load.rep.pk: load for load in response.context["loads"]}
    assert (loads[rep.pk].held, loads[rep.pk].remaining) == (2, 1)
    assert (loads[other_rep.pk].held, loads[other_rep.pk].remaining) == (0, 3)
    html = response.content.decode()
    assert re.search(rf'data-rep="{rep.pk}">.*?2 / 3', html, re.S)


def test_assign_page_queries_do_not_grow_with_leads(
    client, manager, rep, pool, django_assert_max_num_queries
):
    for _ in range(3):
        pooled(pool)
    _login(client, manager)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("pool_manage:assign", args=[pool.pk]))
    for _ in range(30):
        pooled(pool)
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("pool_manage:assign", args=[pool.pk]))


def test_bulk_assign_gives_the_checked_leads_to_the_rep(client, manager, rep, pool):
    leads = [pooled(pool) for _ in range(3)]
    untouched = pooled(pool)
    response = _login(client, manager).post(
        reverse("pool_manage:assign", args=[pool.pk]),
        {"customers": [c.pk for c in leads], "rep": rep.pk, "note": "start"},
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(owner=rep).values_list("pk", flat=True)) == {c.pk for c in leads}
    untouched.refresh_from_db()
    assert untouched.pool_id == pool.pk
    events = PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN, to_owner=rep)
    assert events.count() == 3
    assert not events.filter(override=True).exists()


def test_bulk_assign_past_the_limit_assigns_nothing_and_says_why(client, manager, rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    leads = [pooled(pool) for _ in range(2)]
    response = _login(client, manager).post(
        reverse("pool_manage:assign", args=[pool.pk]), {"customers": [c.pk for c in leads], "rep": rep.pk}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Customer.objects.filter(owner=rep).exists()
    assert not PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN).exists()


def test_bulk_assign_with_override_passes_the_limit_and_logs_it(client, manager, rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    leads = [pooled(pool) for _ in range(2)]
    response = _login(client, manager).post(
        reverse("pool_manage:assign", args=[pool.pk]),
        {"customers": [c.pk for c in leads], "rep": rep.pk, "override": "on"},
    )
    assert response.status_code == 302
    assert Customer.objects.filter(owner=rep).count() == 2
    assert PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN, override=True).exists()


# --- distribution, transfer ---------------------------------------------------------------------


def test_distribution_shows_assigned_counts_and_skipped_reps(client, manager, rep, other_rep, pool):
    other_rep.is_away = True
    other_rep.save()
    for _ in range(4):
        pooled(pool)
    response = _login(client, manager).post(
        reverse("pool_manage:distribute", args=[pool.pk]), {"strategy": "round_robin", "max_leads": 3}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result["total"] == 3 == Customer.objects.filter(owner=rep).count()
    assert result["assigned"] == [(str(rep), 3)]
    assert result["skipped"] == [(str(other_rep), "marked away")]
    assert "marked away" in response.content.decode()


def test_transfer_moves_a_customer_between_reps(client, manager, rep, other_rep, pool):
    customer = owned(rep, pool)
    response = _login(client, manager).post(
        reverse("pool_manage:transfer"), {"customer_id": customer.pk, "to_rep": other_rep.pk}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.owner_id == other_rep.pk
    assert PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER, customer=customer).count() == 1


def test_transfer_to_another_teams_rep_is_refused(client, manager, rep, other_team_rep, pool):
    customer = owned(rep, pool)
    response = _login(client, manager).post(
        reverse("pool_manage:transfer"), {"customer_id": customer.pk, "to_rep": other_team_rep.pk}
    )
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.owner_id == rep.pk
    assert not PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).exists()


# --- extensions ---------------------------------------------------------------------------------


def _extension(rep, pool):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=25)
    return services.request_extension(
        rep=rep, customer_id=customer.pk, days=7, reason="Budget in May"
    ), customer


def test_manager_sees_and_approves_an_extension(client, manager, rep, pool):
    request, customer = _extension(rep, pool)
    due_before = customer.recycle_due_at
    _login(client, manager)
    listing = client.get(reverse("pool_manage:extensions"))
    assert list(listing.context["page"]) == [request]
    response = client.post(
        reverse("pool_manage:extension_decide", args=[request.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == ExtensionStatus.APPROVED
    assert customer.recycle_due_at == due_before + timedelta(days=7)
    assert PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_APPROVE, customer=customer).count() == 1


def test_manager_refuses_an_extension(client, manager, rep, pool):
    request, customer = _extension(rep, pool)
    due_before = customer.recycle_due_at
    _login(client, manager).post(
        reverse("pool_manage:extension_decide", args=[request.pk]), {"decision": "refuse"}
    )
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == ExtensionStatus.REFUSED
    assert customer.recycle_due_at == due_before
    assert PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REFUSE).count() == 1


def test_other_teams_manager_cannot_decide_an_extension(client, rep, pool, other_team_rep):
    request, _customer = _extension(rep, pool)
    _login(client, other_team_rep.team.manager).post(
        reverse("pool_manage:extension_decide", args=[request.pk]), {"decision": "approve"}
    )
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING
    assert not ExtensionRequest.objects.exclude(status=ExtensionStatus.PENDING).exists()


def test_a_request_whose_customer_left_offers_only_refuse_and_approving_says_why(client, manager, rep, pool):
    request, customer = _extension(rep, pool)
    services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")
    _login(client, manager)

    listing = client.get(reverse("pool_manage:extensions")).content.decode()
    response = client.post(
        reverse("pool_manage:extension_decide", args=[request.pk]), {"decision": "approve"}, follow=True
    )

    assert "No longer theirs: it can only be refused." in listing
    assert re.search(r'value="approve" class="btn btn-sm btn-success" disabled', listing)
    body = response.content.decode()
    assert f"released {customer.name} on" in body
    assert "cannot be approved" in body
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING
    assert not PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_APPROVE).exists()


def test_the_manager_decides_from_the_customer_page_and_comes_back_to_it(client, manager, rep, pool):
    request, customer = _extension(rep, pool)
    page = reverse("customers:detail", args=[customer.pk])
    _login(client, manager)

    shown = client.get(page).content.decode()
    response = client.post(
        reverse("pool_manage:extension_decide", args=[request.pk]), {"decision": "refuse", "next": page}
    )

    assert "Budget in May" in shown
    assert f"{rep} asked for 7 more days on" in shown
    assert response.status_code == 302
    assert response["Location"] == page
    request.refresh_from_db()
    assert request.status == ExtensionStatus.REFUSED


# --- event log ----------------------------------------------------------------------------------


def _log(manager, rep, other_rep, pool, other_pool):
    """Assign two leads of ``pool`` to ``rep``, one to ``other_rep``, one of ``other_pool``."""
    other_pool.teams.add(rep.team)
    a, b, c = pooled(pool, name="北京甲公司"), pooled(pool), pooled(pool)
    d = pooled(other_pool)
    services.assign_customers(actor=manager, rep=rep, customer_ids=[a.pk, b.pk])
    services.assign_customers(actor=manager, rep=other_rep, customer_ids=[c.pk])
    services.assign_customers(actor=manager, rep=rep, customer_ids=[d.pk])
    services.release_customer(actor=rep, customer_id=b.pk, reason="other", note="不需要")


def test_event_log_filters_by_pool_kind_and_person(
    client, manager, rep, other_rep, pool, other_pool, admin_user
):
    _log(manager, rep, other_rep, pool, other_pool)
    _login(client, admin_user)
    url = reverse("pool_manage:events")
    by_pool = client.get(url, {"pool": pool.pk}).context["page"]
    assert (
        by_pool.paginator.count == PoolEvent.objects.filter(Q(from_pool=pool) | Q(to_pool=pool)).count() == 4
    )
    releases = client.get(url, {"kind": "release"}).context["page"]
    assert [e.kind for e in releases] == ["release"]
    by_rep = client.get(url, {"rep": rep.pk}).context["page"]
    assert [e.kind for e in by_rep] == ["release"]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.get(url, {"from": tomorrow}).context["page"].paginator.count == 0
    today = timezone.localdate().isoformat()
    assert client.get(url, {"from": today, "to": today}).context["page"].paginator.count == 5


def test_pool_event_page_shows_only_that_pools_events(client, manager, rep, other_rep, pool, other_pool):
    _log(manager, rep, other_rep, pool, other_pool)
    response = _login(client, manager).get(reverse("pool_manage:pool_events", args=[pool.pk]))
    events = list(response.context["page"])
    assert len(events) == 4
    assert all(pool.pk in (e.from_pool_id, e.to_pool_id) for e in events)


def test_event_log_queries_do_not_grow_with_rows(client, manager, rep, other_rep, pool, other_pool):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _log(manager, rep, other_rep, pool, other_pool)
    _login(client, manager)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("pool_manage:events"))
    leads = [pooled(pool) for _ in range(20)]
    services.assign_customers(actor=manager, rep=rep, customer_ids=[c.pk for c in leads])
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("pool_manage:events"))
    assert len(many) == len(few)


def test_event_log_csv_matches_the_filtered_rows(client, manager, rep, other_rep, pool, other_pool):
    _log(manager, rep, other_rep, pool, other_pool)
    response = _login(client, manager).get(reverse("pool_manage:events_csv"), {"pool": pool.pk})
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["When", "Kind", "Customer"]
    page_events = list(
        _login(client, manager).get(reverse("pool_manage:events"), {"pool": pool.pk}).context["page"]
    )
    assert [(r[1], r[2]) for r in rows[1:]] == [(e.get_kind_display(), e.customer.name) for e in page_events]
    assert any(r[2] == "北京甲公司" for r in rows[1:])
    assert any(r[11] == "不需要" for r in rows[1:])


def test_event_log_csv_header_is_translated(client, manager, rep, other_rep, pool, other_pool):
    _log(manager, rep, other_rep, pool, other_pool)
    response = _login(client, manager).get(
        reverse("pool_manage:events_csv"), {"kind": "release"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    from django.utils import translation

    with translation.override("zh-hans"):
        assert rows[0][1] == str(translation.pgettext("kind of pool event", "Kind")) == "类型"


# --- recycle rules ------------------------------------------------------------------------------


def _rule_post(**overrides):
    data = {"name": "Quiet", "enabled": "on", "priority": 100, "warn_days": 3, "no_followup_days": 30}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_rule(client, admin_user, pool):
    response = _login(client, admin_user).post(
        reverse("pool_manage:rule_create", args=[pool.pk]), _rule_post(level="A", no_deal_days=90)
    )
    assert response.status_code == 302
    rule = RecycleRule.objects.get(pool=pool)
    assert (rule.name, rule.level, rule.no_followup_days, rule.no_deal_days) == ("Quiet", "A", 30, 90)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"no_followup_days": None}, "no_followup_days"),
        ({"no_followup_days": 0}, "no_followup_days"),
        ({"warn_days": -1}, "warn_days"),
        ({"level": "Z"}, "level"),
        ({"no_deal_days": "abc"}, "no_deal_days"),
    ],
)
def test_bad_rule_input_shows_the_field_error_and_saves_nothing(client, admin_user, pool, overrides, field):
    rule = RecycleRuleFactory(pool=pool, name="Keep", no_followup_days=45)
    response = _login(client, admin_user).post(
        reverse("pool_manage:rule_edit", args=[rule.pk]), _rule_post(**overrides)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    rule.refresh_from_db()
    assert (rule.name, rule.no_followup_days, rule.warn_days) == ("Keep", 45, 3)
    assert RecycleRule.objects.count() == 1


def test_rule_errors_show_in_chinese(client, admin_user, pool):
    response = _login(client, admin_user).post(
        reverse("pool_manage:rule_create", args=[pool.pk]),
        _rule_post(name=""),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    from django.utils import translation

    with translation.override("zh-hans"):
        expected = str(translation.gettext("This field is required."))
    assert response.context["form"].errors["name"] == [expected]
    assert not RecycleRule.objects.exists()


def test_rule_toggle_disables_and_enables(client, admin_user, pool):
    rule = RecycleRuleFactory(pool=pool)
    _login(client, admin_user).post(reverse("pool_manage:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled is False
    client.post(reverse("pool_manage:rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled is True


def _stale_customers(rep, pool):
    """Customers idle 40 days (due under a 30-day rule) and 28 days (warned under 30, due under 20)."""
    for _ in range(2):
        owned(rep, pool, claimed_days_ago=40)
    for _ in range(3):
        owned(rep, pool, claimed_days_ago=28)
    owned(rep, pool, claimed_days_ago=1)


def test_preview_numbers_equal_the_service_and_follow_the_form(client, admin_user, rep, pool):
    _stale_customers(rep, pool)
    url = reverse("pool_manage:rule_preview", args=[pool.pk])
    _login(client, admin_user)
    numbers = []
    for days in (30, 20):
        response = client.post(url, _rule_post(no_followup_days=days), HTTP_HX_REQUEST="true")
        preview = response.context["preview"]
        expected = services.preview_rule(
            pool_id=pool.pk, rule=services.RuleData(name="Quiet", no_followup_days=days, warn_days=3)
        )
        assert (preview.due_now, preview.due_within_warning) == (
            expected.due_now,
            expected.due_within_warning,
        )
        assert [r.customer_id for r in preview.sample] == [r.customer_id for r in expected.sample]
        assert f">{expected.due_now}</strong> customers now" in response.content.decode()
        numbers.append((preview.due_now, preview.due_within_warning))
    assert numbers == [(2, 3), (5, 0)]
    assert not RecycleRule.objects.exists()


def test_preview_of_invalid_form_saves_nothing_and_explains(client, admin_user, pool):
    response = _login(client, admin_user).post(
        reverse("pool_manage:rule_preview", args=[pool.pk]), _rule_post(no_followup_days="x")
    )
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "Fix the highlighted fields" in response.content.decode()


def test_rule_edit_page_shows_the_saved_rules_preview(client, admin_user, rep, pool):
    rule = RecycleRuleFactory(pool=pool, no_followup_days=30, warn_days=3)
    _stale_customers(rep, pool)
    response = _login(client, admin_user).get(reverse("pool_manage:rule_edit", args=[rule.pk]))
    assert (response.context["preview"].due_now, response.context["preview"].due_within_warning) == (2, 3)
    assert 'hx-trigger="input changed delay:400ms' in response.content.decode()


def test_manager_nav_has_the_manage_entry(client, manager):
    response = _login(client, manager).get(reverse("home"))
    assert reverse("pool_manage:index") in response.content.decode()


def test_rep_nav_has_no_manage_entry(client, rep):
    response = _login(client, rep).get(reverse("home"))
    assert reverse("pool_manage:index") not in response.content.decode()


def test_index_lists_the_managers_pools_only(client, manager, pool, other_pool):
    response = _login(client, manager).get(reverse("pool_manage:index"))
    assert [p.pk for p in response.context["pools"]] == [pool.pk]


# --- admin configuration ------------------------------------------------------------------------


def _pool_post(team, **overrides):
    data = {
        "name": "South leads",
        "teams": [team.pk],
        "cooldown_days": 7,
        "max_extension_days": 21,
        "max_held_per_rep": 20,
        "max_claims_per_day": 5,
        "hide_contacts": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("page", ["pool_manage:pools", "pool_manage:reasons", "pool_manage:schedules"])
def test_manager_is_refused_admin_setup_pages(client, manager, page):
    assert _login(client, manager).get(reverse(page)).status_code == 403


def test_admin_creates_a_pool_with_its_settings(client, admin_user, team, manager):
    response = _login(client, admin_user).post(
        reverse("pool_manage:pool_create"), _pool_post(team, owner=manager.pk, is_default="on")
    )
    assert response.status_code == 302
    pool = Pool.objects.get(name="South leads")
    assert list(pool.teams.all()) == [team]
    assert (pool.owner_id, pool.max_held_per_rep, pool.max_claims_per_day, pool.cooldown_days) == (
        manager.pk,
        20,
        5,
        7,
    )
    assert pool.hide_contacts is True
    assert pool.is_default is True


def test_admin_edits_a_pool(client, admin_user, team, pool):
    response = _login(client, admin_user).post(
        reverse("pool_manage:pool_edit", args=[pool.pk]),
        _pool_post(team, name=pool.name, max_held_per_rep=None),
    )
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.max_held_per_rep is None
    assert pool.hide_contacts is True
    assert (pool.cooldown_days, pool.max_extension_days) == (7, 21)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "West leads"}, "name"),  # another pool's name (the service says so)
        ({"cooldown_days": -1}, "cooldown_days"),
        ({"max_extension_days": 0}, "max_extension_days"),
        ({"max_extension_days": 366}, "max_extension_days"),
        ({"max_claims_per_day": "many"}, "max_claims_per_day"),
        ({"owner": "rep"}, "owner"),
    ],
)
def test_bad_pool_input_shows_the_error_and_saves_nothing(
    client, admin_user, team, rep, pool, other_pool, overrides, field
):
    if overrides.get("owner") == "rep":
        overrides["owner"] = rep.pk
    before = Pool.objects.values().get(pk=pool.pk)
    response = _login(client, admin_user).post(
        reverse("pool_manage:pool_edit", args=[pool.pk]), _pool_post(team, **overrides)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Pool.objects.values().get(pk=pool.pk) == before
    assert Pool.objects.count() == 2


def test_admin_adds_edits_and_deactivates_a_release_reason(client, admin_user):
    _login(client, admin_user)
    response = client.post(
        reverse("pool_manage:reason_create"),
        {"code": "too-small", "label": "Too small", "label_zh": "规模太小", "order": 5, "active": "on"},
    )
    assert response.status_code == 302
    reason = ReleaseReason.objects.get(code="too-small")
    assert (reason.label, reason.label_zh, reason.active) == ("Too small", "规模太小", True)
    client.post(
        reverse("pool_manage:reason_edit", args=[reason.pk]),
        {"code": "changed", "label": "Far too small", "label_zh": "规模太小", "order": 5},
    )
    reason.refresh_from_db()
    assert (reason.code, reason.label, reason.active) == ("too-small", "Far too small", False)
    listing = client.get(reverse("pool_manage:reasons"))
    assert reason in list(listing.context["page"])


def test_release_reason_needs_a_label(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("pool_manage:reason_create"), {"code": "x", "order": 1}
    )
    assert response.status_code == 400
    assert "label" in response.context["form"].errors
    assert not ReleaseReason.objects.filter(code="x").exists()


def _weights_page_data(client, pool):
    """What the weights page shows, as its form would post it."""
    from tests.customers.test_admin import form_data

    return {
        name: values[0]
        for name, values in form_data(client.get(reverse("pool_manage:weights", args=[pool.pk]))).items()
    }


def test_admin_sets_priority_weights_in_fields_and_they_round_trip(client, admin_user, pool):
    _login(client, admin_user)
    page = client.get(reverse("pool_manage:weights", args=[pool.pk])).content.decode()
    assert "A – key account" in page  # values by name, not JSON
    assert '{"A"' not in page
    data = _weights_page_data(client, pool)
    assert (data["level_scores__A"], data["level_scores__B"], data["industry_weight"]) == ("100", "60", "20")
    data.update({"industry_weight": "50", "size_weight": "0", "recency_horizon_days": "90"})
    data.update({"level_scores__B": "40", "source_scores__referral": "100", "industry_scores__media": "95"})

    response = client.post(reverse("pool_manage:weights", args=[pool.pk]), data)

    assert response.status_code == 302
    weights = PriorityWeights.objects.get(pool=pool)
    assert (weights.industry_weight, weights.size_weight, weights.recency_horizon_days) == (50, 0, 90)
    # Only scores that differ from the defaults are the pool's own; the rest follow the defaults.
    assert (weights.level_scores, weights.source_scores, weights.industry_scores) == (
        {"B": 40}, {}, {"media": 95}
    )  # fmt: skip
    again = _weights_page_data(client, pool)
    assert {k: again[k] for k in ("level_scores__A", "level_scores__B", "industry_scores__media", "industry_weight")} == {
        "level_scores__A": "100", "level_scores__B": "40", "industry_scores__media": "95", "industry_weight": "50"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("industry_weight", "101"),
        ("industry_weight", "-1"),
        ("level_scores__A", "101"),
        ("source_scores__website", "-5"),
        ("recency_horizon_days", "0"),
        ("recency_horizon_days", "3651"),
        ("size_scores__micro", "12.5"),
        ("level_weight", ""),
    ],
)
def test_out_of_range_priority_weights_are_refused_in_place_and_save_nothing(
    client, admin_user, pool, field, value
):
    _login(client, admin_user)
    data = _weights_page_data(client, pool)
    data[field] = value

    response = client.post(reverse("pool_manage:weights", args=[pool.pk]), data)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not PriorityWeights.objects.filter(pool=pool).exists()


def test_priority_weight_boundaries_are_accepted(client, admin_user, pool):
    _login(client, admin_user)
    data = _weights_page_data(client, pool)
    data.update(
        {"industry_weight": "0", "size_weight": "100", "recency_horizon_days": "3650", "level_scores__C": "0"}
    )
    data.update({"level_scores__A": "100", "recency_weight": "0"})

    assert client.post(reverse("pool_manage:weights", args=[pool.pk]), data).status_code == 302

    weights = PriorityWeights.objects.get(pool=pool)
    assert (weights.industry_weight, weights.size_weight, weights.recency_horizon_days) == (0, 100, 3650)
    assert weights.level_scores == {"C": 0}


def _job():
    crontab = CrontabSchedule.objects.create(minute="*/15", hour="*")
    return PeriodicTask.objects.create(
        name="public_pool.recycle", task="public_pool.tasks.recycle_pool_task", crontab=crontab
    )


def test_schedule_page_lists_the_periodic_jobs_only(client, admin_user):
    job = _job()
    PeriodicTask.objects.create(
        name="other",
        task="metrics.tasks.x",
        interval=IntervalSchedule.objects.create(every=1, period="hours"),
    )
    response = _login(client, admin_user).get(reverse("pool_manage:schedules"))
    tasks = [row.task for row in response.context["rows"]]
    assert tasks[0] == job  # the existing row, not a second one; the other jobs' rows were made
    assert "other" not in {task.name for task in tasks}
    assert len(tasks) == len(django_settings.CELERY_BEAT_SCHEDULE)
    assert "every 15 minutes" in response.content.decode()


def test_admin_changes_a_jobs_crontab(client, admin_user):
    job = _job()
    response = _login(client, admin_user).post(
        reverse("pool_manage:schedule_edit", args=[job.pk]),
        {"enabled": "on", "minute": "30", "hour": "2", "day_of_week": "1-5"},
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.crontab.minute, job.crontab.hour, job.crontab.day_of_week, job.crontab.day_of_month) == (
        "30",
        "2",
        "1-5",
        "*",
    )
    assert job.enabled is True


def test_bad_crontab_changes_nothing(client, admin_user):
    job = _job()
    response = _login(client, admin_user).post(
        reverse("pool_manage:schedule_edit", args=[job.pk]), {"enabled": "on", "minute": "99", "hour": "2"}
    )
    assert response.status_code == 400
    job.refresh_from_db()
    assert (job.crontab.minute, job.crontab.hour) == ("*/15", "*")


def test_admin_disables_a_job(client, admin_user):
    job = _job()
    _login(client, admin_user).post(reverse("pool_manage:schedule_toggle", args=[job.pk]))
    job.refresh_from_db()
    assert job.enabled is False


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_admin_page_renders(client, admin_user, rep, pool, language):
    rule = RecycleRuleFactory(pool=pool)
    reason = ReleaseReason.objects.create(code="gone", label="Gone", label_zh="倒闭")
    job = _job()
    customer = owned(rep, pool)
    _login(client, admin_user)
    client.cookies["django_language"] = language
    for name, args in [
        ("pool_manage:index", []),
        ("pool_manage:assign", [pool.pk]),
        ("pool_manage:pool_events", [pool.pk]),
        ("pool_manage:events", []),
        ("pool_manage:extensions", []),
        ("pool_manage:transfer", []),
        ("pool_manage:rules", [pool.pk]),
        ("pool_manage:rule_create", [pool.pk]),
        ("pool_manage:rule_edit", [rule.pk]),
        ("pool_manage:pools", []),
        ("pool_manage:pool_create", []),
        ("pool_manage:pool_edit", [pool.pk]),
        ("pool_manage:weights", [pool.pk]),
        ("pool_manage:reasons", []),
        ("pool_manage:reason_create", []),
        ("pool_manage:reason_edit", [reason.pk]),
        ("pool_manage:schedules", []),
        ("pool_manage:schedule_edit", [job.pk]),
    ]:
        response = client.get(reverse(name, args=args), {"customer": customer.pk})
        assert response.status_code == 200, name
        assert f'lang="{language}"' in response.content.decode(), name


def test_deciding_an_unknown_extension_is_404(client, manager):
    response = _login(client, manager).post(
        reverse("pool_manage:extension_decide", args=[999999]), {"decision": "approve"}
    )
    assert response.status_code == 404

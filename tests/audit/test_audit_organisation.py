"""The audit log covers KPI targets, scorecard weights and the cap, people's roles and teams, and
teams' managers: each change through each door that can make it (settings page, Django admin;
there is no API that changes them) writes exactly one entry with before and after."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AuditArea, AuditEntry
from customers.models import Role
from metrics.models import KpiTarget, ScorecardSettings
from metrics.selectors.scorecard import TargetScope
from metrics.services import scorecard as scorecard_services
from tests.customers.test_admin import form_data
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

QUARTER = "2025-Q1"


@pytest.fixture
def admin_client(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def only_entry(area):
    entries = list(AuditEntry.objects.filter(area=area))
    assert len(entries) == 1, [(e.action, e.changes) for e in entries]
    return entries[0]


def _post_page_form(client, url, values):
    """Submit a formset page as a browser would: what the page shows, ``values`` typed over it."""
    data = form_data(client.get(url))
    for index in range(int(data[next(k for k in data if k.endswith("TOTAL_FORMS"))][0])):
        for prefix in ("targets", "weights"):
            code = data.get(f"{prefix}-{index}-kpi", [None])[0]
            if code in values:
                field = "target" if prefix == "targets" else "weight"
                data[f"{prefix}-{index}-{field}"] = [values[code]]
    if "cap" in values:
        data["cap"] = [values["cap"]]
    return client.post(url, data)


# --- KPI targets -------------------------------------------------------------------------------


def test_a_target_set_on_the_page_writes_one_entry_per_save(admin_client, admin_user):
    url = f"{reverse('scorecard:targets')}?quarter={QUARTER}&scope=everyone"

    assert _post_page_form(admin_client, url, {"sales": "500"}).status_code == 302
    created = only_entry(AuditArea.KPI_TARGET)
    assert (created.actor, created.object_label, created.changes) == (
        admin_user, "2025-Q1 · Everyone", {"target:sales": [None, 500.0]}
    )  # fmt: skip

    assert _post_page_form(admin_client, url, {"sales": "650.5"}).status_code == 302
    assert _post_page_form(admin_client, url, {"sales": "650.5"}).status_code == 302  # no change: no entry
    changed = AuditEntry.objects.filter(area=AuditArea.KPI_TARGET).exclude(pk=created.pk)
    assert [e.changes for e in changed] == [{"target:sales": [500.0, 650.5]}]


def test_a_refused_target_writes_no_entry(admin_client):
    url = f"{reverse('scorecard:targets')}?quarter={QUARTER}&scope=everyone"

    assert _post_page_form(admin_client, url, {"sales": "-3"}).status_code == 400

    assert not AuditEntry.objects.exists()
    assert not KpiTarget.objects.exists()


def test_a_target_added_changed_and_deleted_in_the_django_admin_writes_one_entry_each(admin_client, team):
    add = admin_client.post(
        reverse("admin:metrics_kpitarget_add"),
        {"kpi": "sales", "quarter": "2025-01-01", "rep": "", "team": team.pk, "target": "80"},
    )
    assert add.status_code == 302, add.content.decode()[:3000]
    assert only_entry(AuditArea.KPI_TARGET).changes == {"target:sales": [None, 80.0]}
    target = KpiTarget.objects.get()

    change = admin_client.post(reverse("admin:metrics_kpitarget_change", args=[target.pk]), {"target": "90"})
    assert change.status_code == 302, change.content.decode()[:3000]
    target = KpiTarget.objects.get()  # saving replaces the row (the service's delete-and-insert)
    delete = admin_client.post(reverse("admin:metrics_kpitarget_delete", args=[target.pk]), {"post": "yes"})
    assert delete.status_code == 302

    entries = list(AuditEntry.objects.filter(area=AuditArea.KPI_TARGET).order_by("id"))
    assert [e.changes for e in entries] == [
        {"target:sales": [None, 80.0]},
        {"target:sales": [80.0, 90.0]},
        {"target:sales": [90.0, None]},
    ]
    assert {e.object_label for e in entries} == {"2025-Q1 · East"}
    assert not KpiTarget.objects.exists()


def test_the_django_admin_refuses_a_target_of_zero_and_writes_nothing(admin_client):
    response = admin_client.post(
        reverse("admin:metrics_kpitarget_add"),
        {"kpi": "sales", "quarter": "2025-01-01", "rep": "", "team": "", "target": "0"},
    )

    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors
    assert not AuditEntry.objects.exists()
    assert not KpiTarget.objects.exists()


# --- scorecard weights and cap -----------------------------------------------------------------


def test_weights_and_cap_saved_on_the_page_write_one_entry(admin_client, admin_user):
    response = _post_page_form(
        admin_client, reverse("scorecard:weights"), {"sales": "60", "customer_conversion": "40", "cap": "150"}
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry(AuditArea.SCORECARD_WEIGHTS)
    assert (entry.actor, entry.action) == (admin_user, "changed")
    assert entry.changes == {
        "cap": [120.0, 150.0],
        "weight:sales": [None, 60.0],
        "weight:customer_conversion": [None, 40.0],
    }


def test_the_cap_changed_in_the_django_admin_writes_one_entry_and_weights_are_read_only_there(
    admin_client, admin_user
):
    scorecard_services.update_scorecard(actor=admin_user, weights={"sales": Decimal(100)}, cap=Decimal(120))
    first = AuditEntry.objects.get()

    response = admin_client.post(reverse("admin:metrics_scorecardsettings_change", args=[1]), {"cap": "130"})

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.exclude(pk=first.pk).get()
    assert (entry.area, entry.changes) == (AuditArea.SCORECARD_WEIGHTS, {"cap": [120.0, 130.0]})
    assert ScorecardSettings.objects.get().cap == Decimal(130)
    weight_admin = admin_client.get(reverse("admin:metrics_scorecardweight_changelist"))
    assert weight_admin.status_code == 200
    assert admin_client.get(reverse("admin:metrics_scorecardweight_add")).status_code == 403


# --- people and teams --------------------------------------------------------------------------


def test_a_role_change_in_the_django_admin_writes_one_entry(admin_client, admin_user, rep):
    url = reverse("admin:customers_user_change", args=[rep.pk])
    data = form_data(admin_client.get(url))
    data["role"] = [Role.MANAGER]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry(AuditArea.USER)
    assert (entry.actor, entry.object_label, entry.changes) == (
        admin_user,
        "rep",
        {"role": ["rep", "manager"]},
    )


def test_a_team_move_in_the_django_admin_writes_one_entry(admin_client, rep):
    north = TeamFactory(name="North")
    url = reverse("admin:customers_user_change", args=[rep.pk])
    data = form_data(admin_client.get(url))
    data["team"] = [str(north.pk)]

    assert admin_client.post(url, data).status_code == 302

    assert only_entry(AuditArea.USER).changes == {"team": ["East", "North"]}
    rep.refresh_from_db()
    assert rep.team_id == north.pk


def test_a_new_person_in_the_django_admin_writes_one_created_entry(admin_client, team):
    response = admin_client.post(
        reverse("admin:customers_user_add"),
        {"username": "newrep", "password1": "a-Long-pass-42", "password2": "a-Long-pass-42",
         "usable_password": "true", "role": Role.REP, "team": team.pk, "email": "", "first_name": "",
         "last_name": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry(AuditArea.USER)
    assert (entry.action, entry.object_label) == ("created", "newrep")
    assert entry.changes == {"role": [None, "rep"], "team": [None, "East"], "is_superuser": [None, False]}


def test_a_team_manager_change_in_the_django_admin_writes_one_entry(admin_client, team, manager):
    other = UserFactory(username="other", role=Role.MANAGER, first_name="Li", last_name="Wei")
    url = reverse("admin:customers_team_change", args=[team.pk])
    data = form_data(admin_client.get(url))
    data["manager"] = [str(other.pk)]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry(AuditArea.USER)
    assert (entry.object_id, entry.object_label) == (f"team-{team.pk}", "East")
    assert entry.changes == {"manager": [str(manager), str(other)]}


def test_deleting_a_team_records_the_team_and_each_member_leaving_it(admin_client, team, rep):
    response = admin_client.post(reverse("admin:customers_team_delete", args=[team.pk]), {"post": "yes"})

    assert response.status_code == 302
    entries = {(e.object_label, e.action): e.changes for e in AuditEntry.objects.filter(area=AuditArea.USER)}
    assert entries[("rep", "changed")] == {"team": ["East", None]}
    assert entries[("East", "deleted")]["name"] == ["East", None]


# --- the page --------------------------------------------------------------------------------------


def test_the_page_filters_the_new_areas_and_says_them_in_words_in_both_languages(
    client, admin_user, rep, team
):
    from customers import services as customer_services

    scorecard_services.set_kpi_targets(
        actor=admin_user,
        quarter=date(2025, 1, 1),
        target_scope=TargetScope(),
        targets={"sales": Decimal(500)},
    )
    rep.role = Role.MANAGER
    customer_services.save_user(actor=admin_user, user=rep)
    client.force_login(admin_user)

    targets = client.get(reverse("audit:log"), {"area": "kpi_target"}).content.decode()
    people = client.get(reverse("audit:log"), {"area": "user"}).content.decode()
    people_zh = client.get(
        reverse("audit:log"), {"area": "user"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    from metrics import kpis

    with translation.override("en"):
        assert str(kpis.load()["sales"].label) in targets
    assert "target:sales" not in targets
    assert "Sales rep" not in targets
    assert "Sales rep" in people
    assert "Manager" in people
    with translation.override("zh-hans"):
        assert str(Role.MANAGER.label) in people_zh
        assert str(AuditArea.USER.label) in people_zh
        targets_zh = client.get(reverse("audit:log"), {"area": "kpi_target"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert "2025-Q1 · 所有人" in targets_zh.content.decode()
        assert str(Role.MANAGER.label) != "Manager"

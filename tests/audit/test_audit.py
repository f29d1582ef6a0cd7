"""The audit log of configuration: one entry per change with before and after, whichever door
the change came through (page, API, Django admin); append-only; the admins' page and CSV."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AppendOnly, AuditArea, AuditEntry
from public_pool import services
from public_pool.exceptions import InvalidInput
from public_pool.models import Pool, ReleaseReason
from tests.factories import PoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(team):
    pool = PoolFactory(name="East leads", max_held_per_rep=20, max_claims_per_day=5, cooldown_days=7)
    pool.teams.add(team)
    return pool


def only_entry(area=AuditArea.POOL):
    entries = list(AuditEntry.objects.filter(area=area))
    assert len(entries) == 1, entries
    return entries[0]


def test_changing_a_pool_limit_on_the_page_writes_one_entry_with_before_and_after(
    client, admin_user, team, pool
):
    client.force_login(admin_user)
    data = {"name": "East leads", "teams": [team.pk], "cooldown_days": 7, "max_held_per_rep": 30,
            "max_claims_per_day": 5, "hide_contacts": "on", "max_extension_days": pool.max_extension_days}  # fmt: skip

    response = client.post(reverse("pool_manage:pool_edit", args=[pool.pk]), data)

    assert response.status_code == 302
    entry = only_entry()
    assert (entry.actor, entry.action, entry.object_id, entry.object_label) == (
        admin_user, "changed", str(pool.pk), "East leads"
    )  # fmt: skip
    assert entry.changes == {"max_held_per_rep": [20, 30]}


def test_changing_a_pool_limit_through_the_api_writes_one_entry(admin_user, pool):
    api = APIClient()
    api.force_authenticate(admin_user)

    response = api.patch(f"/api/pools/{pool.pk}/", {"max_claims_per_day": 9}, format="json")

    assert response.status_code == 200, response.content
    entry = only_entry()
    assert (entry.actor, entry.changes) == (admin_user, {"max_claims_per_day": [5, 9]})


def test_changing_a_pool_limit_in_the_django_admin_writes_one_entry(client, admin_user, team, pool):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    data = {
        "name": "East leads", "description": "", "teams": [team.pk], "max_held_per_rep": 20,
        "max_claims_per_day": 5, "cooldown_days": 3, "hide_contacts": "on",
        "max_extension_days": pool.max_extension_days,
        "recycle_rules-TOTAL_FORMS": 0, "recycle_rules-INITIAL_FORMS": 0,
        "recycle_rules-MIN_NUM_FORMS": 0, "recycle_rules-MAX_NUM_FORMS": 1000,
    }  # fmt: skip

    response = client.post(reverse("admin:public_pool_pool_change", args=[pool.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry()
    assert (entry.actor, entry.changes) == (admin_user, {"cooldown_days": [7, 3]})


def test_members_and_masking_are_recorded_by_name_and_a_no_op_save_writes_nothing(admin_user, team, pool):
    from tests.factories import TeamFactory

    west = TeamFactory(name="West")
    data = services.PoolData(name="East leads", team_ids=(team.pk, west.pk), max_held_per_rep=20,
                             max_claims_per_day=5, cooldown_days=7, hide_contacts=False)  # fmt: skip

    services.update_pool(actor=admin_user, pool_id=pool.pk, data=data)
    services.update_pool(actor=admin_user, pool_id=pool.pk, data=data)  # nothing changes

    entry = only_entry()
    assert entry.changes == {"teams": [["East"], ["East", "West"]], "hide_contacts": [True, False]}


def test_rules_weights_and_release_reasons_are_audited(admin_user, pool):
    rule = services.create_recycle_rule(
        actor=admin_user, pool_id=pool.pk, rule=services.RuleData(name="Quiet", no_followup_days=30)
    )
    services.update_recycle_rule(
        actor=admin_user, rule_id=rule.pk, rule=services.RuleData(name="Quiet", no_followup_days=14)
    )
    services.delete_recycle_rule(actor=admin_user, rule_id=rule.pk)
    services.update_priority_weights(
        actor=admin_user, pool_id=pool.pk, data=services.WeightsData(size_weight=40)
    )
    from public_pool.services import pools as pool_services

    reason = pool_services.save_release_reason(
        actor=admin_user, reason_id=None, values={"code": "tiny", "label": "Tiny", "order": 5, "active": True}
    )
    pool_services.save_release_reason(actor=admin_user, reason_id=reason.pk, values={"label": "Very small"})

    rules = list(AuditEntry.objects.filter(area=AuditArea.RECYCLE_RULE).order_by("id"))
    assert [e.action for e in rules] == ["created", "changed", "deleted"]
    assert rules[1].changes == {"no_followup_days": [30, 14]}
    assert rules[2].changes["name"] == ["Quiet", None]
    weights = only_entry(AuditArea.PRIORITY_WEIGHTS)
    assert weights.action == "created"
    assert weights.changes["size_weight"] == [None, 40]
    reasons = list(AuditEntry.objects.filter(area=AuditArea.RELEASE_REASON).order_by("id"))
    assert [(e.action, e.object_label) for e in reasons] == [("created", "Tiny"), ("changed", "Very small")]
    assert reasons[1].changes == {"label": ["Tiny", "Very small"]}
    assert ReleaseReason.objects.get(code="tiny").label == "Very small"


def test_a_refused_change_writes_no_entry(admin_user, pool):
    data = services.PoolData(name="East leads", cooldown_days=-1)

    with pytest.raises(InvalidInput):
        services.update_pool(actor=admin_user, pool_id=pool.pk, data=data)

    assert not AuditEntry.objects.exists()
    assert Pool.objects.get(pk=pool.pk).cooldown_days == 7


def test_entries_are_append_only_in_the_model_and_in_the_database(admin_user, pool):
    services.update_pool(actor=admin_user, pool_id=pool.pk, data=services.PoolData(name="East leads"))
    entry = AuditEntry.objects.get()

    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    for sql in ("UPDATE audit_auditentry SET object_label = 'x'", "DELETE FROM audit_auditentry"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEntry.objects.get().object_label == "East leads"


def test_the_page_is_for_admins_and_filters_by_area(client, admin_user, manager, pool):
    services.update_pool(
        actor=admin_user, pool_id=pool.pk, data=services.PoolData(name="East leads", cooldown_days=2)
    )
    services.create_recycle_rule(
        actor=admin_user, pool_id=pool.pk, rule=services.RuleData(name="Q", no_deal_days=9)
    )
    client.force_login(manager)
    assert client.get(reverse("audit:log")).status_code == 403
    client.force_login(admin_user)

    everything = client.get(reverse("audit:log")).content.decode()
    pools_only = client.get(reverse("audit:log"), {"area": "pool"}).content.decode()

    assert "Cooldown (days)" in everything
    assert "Days without a deal" in everything
    assert "Cooldown (days)" in pools_only
    assert "Days without a deal" not in pools_only


def test_the_csv_has_one_line_per_changed_setting(client, admin_user, pool):
    services.update_pool(
        actor=admin_user,
        pool_id=pool.pk,
        data=services.PoolData(name="East leads", cooldown_days=2, hide_contacts=False),
    )
    client.force_login(admin_user)

    response = client.get(reverse("audit:csv"), {"area": "pool"})

    body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0] == "When,Changed by,Area,Action,What,Setting,Before,After"
    settings_changed = sorted(line.split(",")[5:] for line in body[1:])
    assert ["Cooldown (days)", "7", "2"] in settings_changed
    assert ["Mask contact details", "yes", "no"] in settings_changed


def test_the_page_costs_the_same_queries_whatever_the_page_holds(client, admin_user, pool):
    from django.test.utils import CaptureQueriesContext

    client.force_login(admin_user)

    def queries_for(changes):
        start = AuditEntry.objects.count()
        for days in range(changes):
            data = services.PoolData(name="East leads", cooldown_days=start + days + 10)
            services.update_pool(actor=admin_user, pool_id=pool.pk, data=data)
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("audit:log"))
        assert response.content.decode().count("Cooldown (days)") == start + changes
        return len(context)

    assert queries_for(3) == queries_for(30)


def test_a_job_schedule_change_and_a_toggle_are_audited(admin_user):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from public_pool.services import schedules

    job = PeriodicTask.objects.create(
        name="Recycle", task="public_pool.tasks.recycle_pool_task",
        crontab=CrontabSchedule.objects.create(minute="*/15", hour="*"),
    )  # fmt: skip
    timing = schedules.Timing(
        crontab={"minute": "0", "hour": "*/2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
    )

    schedules.set_job_schedule(actor=admin_user, task_id=job.pk, timing=timing, enabled=True)
    schedules.toggle_job(actor=admin_user, task_id=job.pk)

    entries = list(AuditEntry.objects.filter(area=AuditArea.SCHEDULE).order_by("id"))
    assert [e.changes for e in entries] == [
        {"schedule": ["*/15 * * * *", "0 */2 * * *"]},
        {"enabled": [True, False]},
    ]
    assert {e.object_label for e in entries} == {"Recycle"}

"""``manage.py seed_demo``: users and roles, consistent history, idempotence, determinism, both writers."""

from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q

from customers import demo
from customers.models import (
    CampaignParticipant,
    Contact,
    Customer,
    Deal,
    DealStage,
    Feedback,
    FollowUp,
    Role,
    Team,
    User,
)
from customers.normalization import normalize_company_name, normalize_phone
from public_pool.models import Pool

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30T18:00:00+08:00"
SMALL: dict[str, Any] = {"customers": 120, "reps": 4, "managers": 2, "as_of": AS_OF}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def check_empty() -> tuple[int | str | None, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("seed_demo", check_empty=True, stdout=out)
    return exit_info.value.code, out.getvalue()


def snapshot() -> dict[str, list]:
    """Every generated row, in id order, without the columns the clock sets (auto_now_add)."""
    return {
        "users": list(
            User.objects.order_by("pk").values_list("username", "role", "team__name", "first_name")
        ),
        "customers": list(Customer.objects.order_by("pk").values_list()),
        "contacts": list(Contact.objects.order_by("pk").values_list()),
        "follow-ups": list(FollowUp.objects.order_by("pk").values_list()),
        "deals": list(Deal.objects.order_by("pk").values_list()),
        "feedback": list(Feedback.objects.order_by("pk").values_list()),
        "participants": list(CampaignParticipant.objects.order_by("pk").values_list()),
        "tags": list(Customer.tags.through.objects.order_by("pk").values_list()),
    }


def test_seed_creates_the_named_users_with_roles_teams_and_the_password():
    seed(password="open-sesame")

    admin = User.objects.get(username="admin")
    assert (admin.role, admin.is_staff, admin.is_superuser, admin.team) == (Role.ADMIN, True, True, None)
    managers = {user.username: user for user in User.objects.filter(role=Role.MANAGER)}
    assert set(managers) == {"manager1", "manager2"}
    assert set(User.objects.filter(role=Role.REP).values_list("username", flat=True)) == {
        "rep1",
        "rep2",
        "rep3",
        "rep4",
    }
    for team in Team.objects.all():
        assert team.manager.role == Role.MANAGER
        assert team.manager.team == team
        assert team.members.filter(role=Role.REP).count() == 2
    assert authenticate(username="rep3", password="open-sesame").username == "rep3"
    assert authenticate(username="manager1", password="open-sesame").username == "manager1"
    assert authenticate(username="rep3", password="demo") is None


def test_seed_prints_the_logins_and_print_logins_repeats_them():
    printed = seed()

    for expected in ("admin", "manager2", "rep4", "password: demo"):
        assert expected in printed
    out = StringIO()
    call_command("seed_demo", print_logins=True, stdout=out)
    assert "rep1" in out.getvalue()
    assert "password: demo" in out.getvalue()
    assert Customer.objects.count() == SMALL["customers"]  # printing changed nothing


def test_every_customer_is_owned_with_the_owners_team_or_pooled():
    seed()

    customers = list(Customer.objects.select_related("owner"))
    assert len(customers) == SMALL["customers"]
    owned = [c for c in customers if c.owner_id is not None]
    pooled = [c for c in customers if c.pool_id is not None]
    assert len(owned) + len(pooled) == len(customers)
    # Both kinds; since the public pool's step recycles customers whose rule fired before now
    # (the job ran all along), the pools may hold more than the reps.
    assert len(pooled) > 0
    assert len(owned) > 0
    for customer in owned:
        assert customer.pool_id is None
        assert customer.team_id == customer.owner.team_id
        assert customer.claimed_at is not None
        assert customer.pooled_at is None
    for customer in pooled:
        assert (customer.owner_id, customer.team_id, customer.claimed_at) == (None, None, None)
        assert customer.pooled_at is not None
    assert set(Customer.objects.filter(pool__isnull=False).values_list("pool", flat=True)) <= set(
        Pool.objects.values_list("pk", flat=True)
    )


def test_names_and_phones_are_stored_normalised_and_realistic():
    seed()

    names = list(Customer.objects.values_list("name", "name_normalized", "phone"))
    for name, normalized, phone in names:
        assert normalized == normalize_company_name(name)
        assert phone == normalize_phone(phone)
    assert any(name.endswith("有限公司") for name, _, _ in names)
    assert any(name.isascii() for name, _, _ in names)
    assert len({normalized for _, normalized, _ in names}) == len(names)  # no accidental duplicates
    for phone in Contact.objects.values_list("phone", flat=True):
        assert phone.startswith("+861")
        assert len(phone) == 14


def test_derived_timestamps_match_the_child_rows():
    seed()

    rows = Customer.objects.annotate(
        last_followup=Max("followups__at"),
        first_won=Min("deals__closed_at", filter=Q(deals__stage=DealStage.WON)),
    ).values_list("last_followup_at", "last_followup", "first_won_at", "first_won")
    assert rows.count() == SMALL["customers"]
    for stored_last, last, stored_won, won in rows:
        assert stored_last == last
        assert stored_won == won
    assert Customer.objects.filter(first_won_at__isnull=False).exists()


def test_history_never_predates_the_customer_and_updated_at_covers_it():
    seed()

    latest = Customer.objects.annotate(
        first_followup=Min("followups__at"),
        last_followup=Max("followups__at"),
        first_deal=Min("deals__created_at"),
        last_deal=Max("deals__updated_at"),
        first_feedback=Min("feedback__at"),
        last_feedback=Max("feedback__at"),
        first_contact=Min("contacts__created_at"),
    )
    for customer in latest:
        earliest = [
            customer.first_followup,
            customer.first_deal,
            customer.first_feedback,
            customer.first_contact,
        ]
        for moment in [*earliest, customer.claimed_at, customer.pooled_at]:
            assert moment is None or customer.created_at <= moment
        for moment in [
            customer.last_followup,
            customer.last_deal,
            customer.last_feedback,
            customer.pooled_at,
        ]:
            assert moment is None or moment <= customer.updated_at
        assert customer.updated_at <= datetime.fromisoformat(AS_OF)


def test_follow_ups_deals_and_feedback_cover_every_kind_stage_and_range():
    seed(followups_per_customer=4)

    assert set(FollowUp.objects.values_list("kind", flat=True)) == {
        "call",
        "visit",
        "email",
        "meeting",
        "message",
    }
    total = FollowUp.objects.count()
    assert 0.8 * 4 * SMALL["customers"] <= total <= 1.2 * 4 * SMALL["customers"]
    # An owned customer's follow-ups are by its owner.
    assert (
        not FollowUp.objects.filter(customer__owner__isnull=False).exclude(by=F("customer__owner")).exists()
    )
    assert set(Deal.objects.values_list("stage", flat=True)) == set(DealStage.values)
    closed = Q(stage__in=DealStage.closed_stages())
    assert not Deal.objects.filter(closed, closed_at__isnull=True).exists()
    assert not Deal.objects.filter(~closed, closed_at__isnull=False).exists()
    ranges = Feedback.objects.aggregate(
        nps_min=Min("nps"),
        nps_max=Max("nps"),
        csat_min=Min("csat"),
        csat_max=Max("csat"),
        answers=Count("id"),
    )
    assert ranges["answers"] > 0
    assert 0 <= ranges["nps_min"] <= ranges["nps_max"] <= 10
    assert 1 <= ranges["csat_min"] <= ranges["csat_max"] <= 5
    notes = FollowUp.objects.values_list("note", flat=True)
    assert any(note.isascii() for note in notes)
    assert any(not note.isascii() for note in notes)


def test_check_empty_says_whether_seeding_is_needed_and_prints_nothing():
    assert check_empty() == (0, "")

    seed()

    assert check_empty() == (1, "")


def test_seeding_twice_without_flush_refuses_and_changes_nothing():
    seed()
    before = snapshot()

    with pytest.raises(CommandError, match="--flush"):
        seed(seed=99)

    assert snapshot() == before


def test_flush_replaces_the_existing_data():
    seed()
    User.objects.create_user(username="someone", password="x")

    seed(flush=True, customers=30)

    assert Customer.objects.count() == 30
    assert not User.objects.filter(username="someone").exists()
    assert User.objects.filter(username="admin").count() == 1


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    seed(seed=7, flush=True)  # flushing restarts the ids, so both runs start from the same ids
    first = snapshot()

    seed(seed=7, flush=True)
    assert snapshot() == first

    seed(seed=8, flush=True)
    assert snapshot()["customers"] != first["customers"]


def test_copy_and_orm_writers_write_the_same_rows():
    seed(writer="copy", flush=True)
    copied = snapshot()

    seed(writer="orm", flush=True)

    assert snapshot() == copied


def _catalogue() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
            UNION ALL
            SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                   || ' ' || condeferrable || condeferred || convalidated
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
            ORDER BY 1
            """
        )
        return [row[0] for row in cursor.fetchall()]


def test_bulk_load_restores_every_index_and_foreign_key_and_the_id_sequences():
    before = _catalogue()

    seed(writer="copy")

    assert _catalogue() == before
    rep = User.objects.get(username="rep1")
    customer = Customer.objects.create(name="New Co", name_normalized="newco", owner=rep, team=rep.team)
    assert customer.pk > Customer.objects.exclude(pk=customer.pk).aggregate(top=Max("pk"))["top"]
    followup = FollowUp.objects.create(customer=customer, kind="call", by=rep)
    assert followup.pk > FollowUp.objects.exclude(pk=followup.pk).aggregate(top=Max("pk"))["top"]


def test_the_seed_leaves_planner_statistics_on_the_tables_it_wrote_through_the_orm_too():
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")

    seed(writer="copy")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_stats WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "GROUP BY tablename ORDER BY tablename",
            [["customers_customer", "customers_team", "customers_user", "public_pool_poolevent"]],
        )
        analysed = [name for (name,) in cursor.fetchall()]
    assert analysed == ["customers_customer", "customers_team", "customers_user", "public_pool_poolevent"]


def test_a_failing_step_rolls_the_whole_seed_back(monkeypatch):
    def fail(ctx: demo.SeedContext) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setattr(demo, "STEPS", list(demo.STEPS))
    demo.register_step(demo.Step("fail", fail), after="customers")

    with pytest.raises(RuntimeError, match="step failed"):
        seed()

    assert not User.objects.exists()
    assert not Customer.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_row_the_database_rejects_during_copy_fails_the_seed_and_writes_nothing(monkeypatch):
    def write_bad_customer(ctx: demo.SeedContext) -> None:
        table = demo.Table(Customer, ["id", "name", "name_normalized", "owner_id", "pool_id"])
        with ctx.writer.bulk_load([table]) as load:
            # Neither owned nor pooled: the CHECK constraint refuses it inside COPY.
            load.write(table, [(10**9, "Broken Co", "broken", None, None)])

    monkeypatch.setattr(demo, "STEPS", list(demo.STEPS))
    demo.register_step(demo.Step("broken", write_bad_customer), after="catalogue")

    with pytest.raises(RuntimeError, match="COPY failed"):
        seed(writer="copy")

    assert not User.objects.exists()
    assert not Customer.objects.exists()


def test_bulk_loading_refuses_to_truncate_a_table_that_has_rows(monkeypatch):
    def load_customers_again(ctx: demo.SeedContext) -> None:
        table = demo.Table(Customer, ["id", "name"])
        with ctx.writer.bulk_load([table]):
            pass

    monkeypatch.setattr(demo, "STEPS", list(demo.STEPS))
    demo.register_step(demo.Step("again", load_customers_again), after="customers")

    with pytest.raises(RuntimeError, match="would empty customers_customer"):
        seed(writer="copy")

    assert not Customer.objects.exists()

"""Integrity of ownership (issue 10 item 5): creating one company at once gives one customer,
an owned customer's creation is logged, customer services re-check the owner inside their
transaction, admins take and assign leads only along pool membership (or with a logged
override), and every pair of ownership changes that can meet on one customer has one winner.

Race tests run the two sides on real threads with their own PostgreSQL connections, released
together by a barrier (``run_at_once``); several rounds, so both orders happen."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm_site.exceptions import ConflictError, DomainError
from customers import services as customer_services
from customers.exceptions import DuplicateCustomer, NotAllowed
from customers.models import Customer, FollowUp
from public_pool import services
from public_pool.exceptions import AlreadyClaimed, NotOwned, NotPoolMember
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import PoolFactory, RecycleRuleFactory, TeamFactory, UserFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

ROUNDS = 3


def _data(name="Same Company Ltd", **fields):
    return customer_services.CustomerData(name=name, **fields)


def _snapshot(customer):
    row = Customer.objects.filter(pk=customer.pk).values("owner_id", "pool_id", "team_id", "updated_at").get()
    return row, list(PoolEvent.objects.filter(customer_id=customer.pk).values_list("pk", flat=True))


# --- create: serialised, logged ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eight_threads_creating_one_company_make_one_customer_and_seven_duplicates(team):
    reps = [UserFactory(team=team, first_name=f"Rep{i}") for i in range(8)]
    spellings = ["Same Company Ltd", "SAME COMPANY LIMITED", "Same Company", "same-company ltd."] * 2

    outcomes = run_at_once(
        8, lambda i: services.create_owned_customer(actor=reps[i], data=_data(spellings[i])).pk
    )

    created = [value for status, value in outcomes if status == "ok"]
    refused = [value for status, value in outcomes if status == "error"]
    assert len(created) == 1
    assert len(refused) == 7
    assert all(isinstance(error, DuplicateCustomer) and error.code == "duplicate" for error in refused)
    winner = Customer.objects.get()
    assert winner.pk == created[0]
    # Each refusal says where the company is: with its owner, named.
    for error in refused:
        assert error.duplicates[0]["where"] == "owner"
        assert [c.pk for c in error.matches] == [winner.pk]
    assert list(PoolEvent.objects.values_list("kind", "customer_id", "to_owner_id")) == [
        (PoolEventKind.CREATE, winner.pk, winner.owner_id)
    ]


@pytest.mark.django_db(transaction=True)
def test_eight_api_clients_creating_one_company_get_one_201_and_seven_409_duplicate(team):
    reps = [UserFactory(team=team) for _ in range(8)]

    def create(i):
        client = APIClient()
        client.force_authenticate(reps[i])
        response = client.post("/api/customers/", {"name": "Same Company Ltd"}, format="json")
        return response.status_code, response.json()

    outcomes = run_at_once(8, create)

    assert all(status == "ok" for status, _ in outcomes)
    answers = sorted(value[0] for _, value in outcomes)
    assert answers == [201] + [409] * 7
    assert {value[1]["code"] for _, value in outcomes if value[0] == 409} == {"duplicate"}
    assert Customer.objects.count() == 1
    assert PoolEvent.objects.filter(kind=PoolEventKind.CREATE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_same_phone_under_two_names_at_once_makes_one_customer(team):
    reps = [UserFactory(team=team) for _ in range(4)]

    outcomes = run_at_once(
        4,
        lambda i: (
            services.create_owned_customer(
                actor=reps[i], data=_data(f"Company {i}", phone="+86 138 0000 0000")
            ).pk
        ),
    )

    assert sum(status == "ok" for status, _ in outcomes) == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_reps_new_customer_through_the_api_logs_a_create_event(rep):
    client = APIClient()
    client.force_authenticate(rep)

    response = client.post("/api/customers/", {"name": "Acme Ltd"}, format="json")

    assert response.status_code == 201
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.owner == rep
    assert list(
        PoolEvent.objects.values_list("kind", "customer_id", "actor_id", "to_owner_id", "to_pool_id")
    ) == [(PoolEventKind.CREATE, customer.pk, rep.pk, rep.pk, None)]


@pytest.mark.django_db
def test_a_new_customer_from_the_page_logs_a_create_event(client, rep):
    client.force_login(rep)

    response = client.post(reverse("customers:create"), {"name": "Acme Ltd", "source": "other", "level": "C"})

    assert response.status_code == 302, response.content[:2000]
    customer = Customer.objects.get(name="Acme Ltd")
    assert list(PoolEvent.objects.values_list("kind", "customer_id", "to_owner_id")) == [
        (PoolEventKind.CREATE, customer.pk, rep.pk)
    ]


@pytest.mark.django_db
def test_a_duplicate_create_writes_no_event_and_no_customer(rep, other_rep):
    services.create_owned_customer(actor=rep, data=_data("Acme Ltd"))

    with pytest.raises(DuplicateCustomer):
        services.create_owned_customer(actor=other_rep, data=_data("ACME Limited"))

    assert Customer.objects.count() == 1
    assert PoolEvent.objects.count() == 1


# --- customer services re-check the owner inside their transaction -----------------------------


@pytest.mark.django_db
def test_a_rep_who_just_lost_a_customer_cannot_log_a_follow_up_on_it(rep, other_rep, manager, pool):
    customer = owned(rep, pool)
    loaded_before = Customer.objects.get(pk=customer.pk)  # what the rep's request loaded
    services.transfer_customer(actor=manager, customer_id=customer.pk, to_rep=other_rep)
    before = _snapshot(customer)
    last_followup_at = Customer.objects.get(pk=customer.pk).last_followup_at

    with pytest.raises(NotAllowed):
        customer_services.log_followup(actor=rep, customer=loaded_before, kind="call", note="Called")

    assert FollowUp.objects.count() == 0
    assert _snapshot(customer) == before
    assert Customer.objects.get(pk=customer.pk).last_followup_at == last_followup_at


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["deal", "contact"])
def test_a_rep_who_just_lost_a_customer_cannot_add_deals_or_contacts(rep, pool, action):
    customer = owned(rep, pool)
    loaded_before = Customer.objects.get(pk=customer.pk)
    services.release_customer(actor=rep, customer_id=customer.pk, reason=_reason())

    work = {
        "deal": lambda: customer_services.create_deal(
            actor=rep, customer=loaded_before, title="Big", amount=Decimal(10)
        ),
        "contact": lambda: customer_services.add_contact(actor=rep, customer=loaded_before, name="Ms Li"),
    }[action]

    with pytest.raises(NotAllowed):
        work()

    assert not loaded_before.deals.exists()
    assert not loaded_before.contacts.exists()


@pytest.mark.django_db
def test_the_api_answers_403_to_a_follow_up_on_a_customer_just_released(rep, pool):
    customer = owned(rep, pool)
    client = APIClient()
    client.force_authenticate(rep)
    services.release_customer(actor=rep, customer_id=customer.pk, reason=_reason())

    response = client.post(
        f"/api/customers/{customer.pk}/follow-ups/", {"kind": "call", "note": "Called"}, format="json"
    )

    assert response.status_code in (403, 404)
    assert FollowUp.objects.count() == 0


def _reason():
    from public_pool.models import ReleaseReason

    reason, _created = ReleaseReason.objects.get_or_create(
        code="no_need", defaults={"label": "No need", "active": True}
    )
    return reason.code


# --- admins take and assign along pool membership ---------------------------------------------


@pytest.mark.django_db
def test_an_admin_without_a_member_team_cannot_claim_and_nothing_changes(admin_user, pool):
    lead = pooled(pool)
    before = _snapshot(lead)

    with pytest.raises(NotPoolMember):
        services.claim_customer(rep=admin_user, customer_id=lead.pk)
    with pytest.raises(NotPoolMember):
        services.claim_next_best(rep=admin_user, pool_id=pool.pk)

    assert _snapshot(lead) == before


@pytest.mark.django_db
def test_an_admin_in_a_member_team_claims_with_the_team_set(team, pool):
    admin = UserFactory(username="team_admin", admin=True, team=team)
    lead = pooled(pool)

    services.claim_customer(rep=admin, customer_id=lead.pk)

    lead.refresh_from_db()
    assert (lead.owner_id, lead.team_id, lead.pool_id) == (admin.pk, team.pk, None)


@pytest.mark.django_db
def test_admin_assigning_to_a_rep_whose_team_is_not_a_member_needs_a_logged_override(
    admin_user, other_team_rep, pool
):
    lead = pooled(pool)
    before = _snapshot(lead)

    with pytest.raises(NotPoolMember):
        services.assign_customer(actor=admin_user, customer_id=lead.pk, rep=other_team_rep)
    assert _snapshot(lead) == before

    services.assign_customer(actor=admin_user, customer_id=lead.pk, rep=other_team_rep, override=True)

    lead.refresh_from_db()
    assert (lead.owner_id, lead.team_id) == (other_team_rep.pk, other_team_rep.team_id)
    assert list(PoolEvent.objects.filter(customer=lead).values_list("kind", "to_owner_id", "override")) == [
        (PoolEventKind.ASSIGN, other_team_rep.pk, True)
    ]


@pytest.mark.django_db
def test_admin_assigning_to_a_member_rep_sets_the_team_and_logs_no_override(admin_user, rep, pool):
    lead = pooled(pool)

    services.assign_customer(actor=admin_user, customer_id=lead.pk, rep=rep)

    lead.refresh_from_db()
    assert (lead.owner_id, lead.team_id) == (rep.pk, rep.team_id)
    assert PoolEvent.objects.get(customer=lead).override is False


@pytest.mark.django_db
def test_nobody_assigns_a_lead_to_someone_without_a_team(admin_user, pool):
    loner = UserFactory(username="loner", team=None)
    lead = pooled(pool)
    before = _snapshot(lead)

    with pytest.raises(NotPoolMember):
        services.assign_customer(actor=admin_user, customer_id=lead.pk, rep=loner, override=True)

    assert _snapshot(lead) == before


# --- pairs of ownership changes on one customer, at once ---------------------------------------


def _race(first, second):
    """Run ``first`` and ``second`` at once; answers ``[(status, value), (status, value)]``."""
    return run_at_once(2, lambda i: (first, second)[i]())


def _assert_one_winner(outcomes, customer, *, winner_kinds):
    """Exactly one side succeeded and wrote exactly one event; the loser got a 409 and wrote
    nothing."""
    wins = [value for status, value in outcomes if status == "ok"]
    losses = [value for status, value in outcomes if status == "error"]
    assert len(wins) == 1, outcomes
    assert len(losses) == 1, outcomes
    assert isinstance(losses[0], ConflictError), losses[0]
    assert losses[0].status_code == 409
    kinds = list(PoolEvent.objects.filter(customer_id=customer.pk).values_list("kind", flat=True))
    assert len(kinds) == 1, kinds
    assert kinds[0] in winner_kinds
    return kinds[0]


def _setup_reason():
    return _reason()


@pytest.mark.django_db(transaction=True)
def test_release_against_transfer_one_winner(rep, other_rep, admin_user, pool):
    reason = _setup_reason()
    seen = set()
    for _ in range(ROUNDS):
        customer = owned(rep, pool)

        outcomes = _race(
            lambda pk=customer.pk: services.release_customer(actor=rep, customer_id=pk, reason=reason),
            lambda pk=customer.pk: services.transfer_customer(
                actor=admin_user, customer_id=pk, to_rep=other_rep
            ),
        )

        kind = _assert_one_winner(
            outcomes, customer, winner_kinds={PoolEventKind.RELEASE, PoolEventKind.TRANSFER}
        )
        seen.add(kind)
        row = Customer.objects.get(pk=customer.pk)
        if kind == PoolEventKind.RELEASE:
            assert (row.owner_id, row.pool_id) == (None, pool.pk)
        else:
            assert (row.owner_id, row.pool_id, row.team_id) == (other_rep.pk, None, other_rep.team_id)
    assert seen  # both orders are possible; one of them happened every round


@pytest.mark.django_db(transaction=True)
def test_release_against_recycle_one_winner(rep, pool):
    reason = _setup_reason()
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    for _ in range(ROUNDS):
        customer = owned(rep, pool, claimed_days_ago=30)

        outcomes = _race(
            lambda pk=customer.pk: services.release_customer(actor=rep, customer_id=pk, reason=reason),
            lambda pk=customer.pk: _recycled_or_conflict(pk),
        )

        _assert_one_winner(outcomes, customer, winner_kinds={PoolEventKind.RELEASE, PoolEventKind.RECYCLE})
        row = Customer.objects.get(pk=customer.pk)
        assert (row.owner_id, row.pool_id) == (None, pool.pk)


def _recycled_or_conflict(customer_id):
    """The recycle job does not fail when it finds nothing: count what it moved, and report
    "nothing moved" as the conflict it is for this customer."""
    result = services.recycle_stale_customers(exclusive=False)
    if not PoolEvent.objects.filter(customer_id=customer_id, kind=PoolEventKind.RECYCLE).exists():
        raise NotOwned(customer_id=customer_id)
    return result.recycled


@pytest.mark.django_db(transaction=True)
def test_release_against_claim_never_two_owners(rep, other_rep, pool):
    """The claim either comes first and finds the customer owned (409 ``already_claimed``,
    nothing written), or comes after the release and takes the lead it finds pooled: never two
    owners, never an event without its move."""
    reason = _setup_reason()
    for _ in range(ROUNDS):
        customer = owned(rep, pool)

        outcomes = _race(
            lambda pk=customer.pk: services.release_customer(actor=rep, customer_id=pk, reason=reason),
            lambda pk=customer.pk: services.claim_customer(rep=other_rep, customer_id=pk),
        )

        (release_status, _release), (claim_status, claim) = outcomes
        assert release_status == "ok", outcomes
        kinds = list(
            PoolEvent.objects.filter(customer_id=customer.pk).order_by("pk").values_list("kind", flat=True)
        )
        row = Customer.objects.get(pk=customer.pk)
        if claim_status == "ok":
            assert kinds == [PoolEventKind.RELEASE, PoolEventKind.CLAIM]
            assert (row.owner_id, row.pool_id) == (other_rep.pk, None)
        else:
            assert isinstance(claim, AlreadyClaimed)
            assert claim.status_code == 409
            assert kinds == [PoolEventKind.RELEASE]
            assert (row.owner_id, row.pool_id) == (None, pool.pk)


@pytest.mark.django_db(transaction=True)
def test_release_against_assign_never_two_owners(rep, other_rep, manager, pool):
    reason = _setup_reason()
    for _ in range(ROUNDS):
        customer = owned(rep, pool)

        outcomes = _race(
            lambda pk=customer.pk: services.release_customer(actor=rep, customer_id=pk, reason=reason),
            lambda pk=customer.pk: services.assign_customer(actor=manager, customer_id=pk, rep=other_rep),
        )

        (release_status, _release), (assign_status, assign) = outcomes
        assert release_status == "ok", outcomes
        kinds = list(
            PoolEvent.objects.filter(customer_id=customer.pk).order_by("pk").values_list("kind", flat=True)
        )
        row = Customer.objects.get(pk=customer.pk)
        if assign_status == "ok":
            assert kinds == [PoolEventKind.RELEASE, PoolEventKind.ASSIGN]
            assert row.owner_id == other_rep.pk
        else:
            assert isinstance(assign, AlreadyClaimed)
            assert assign.status_code == 409
            assert kinds == [PoolEventKind.RELEASE]
            assert (row.owner_id, row.pool_id) == (None, pool.pk)


@pytest.mark.django_db(transaction=True)
def test_assign_against_claim_one_winner(rep, other_rep, manager, pool):
    for _ in range(ROUNDS):
        lead = pooled(pool)

        outcomes = _race(
            lambda pk=lead.pk: services.claim_customer(rep=rep, customer_id=pk),
            lambda pk=lead.pk: services.assign_customer(actor=manager, customer_id=pk, rep=other_rep),
        )

        kind = _assert_one_winner(outcomes, lead, winner_kinds={PoolEventKind.CLAIM, PoolEventKind.ASSIGN})
        row = Customer.objects.get(pk=lead.pk)
        assert row.owner_id == (rep.pk if kind == PoolEventKind.CLAIM else other_rep.pk)
        assert row.pool_id is None


@pytest.mark.django_db(transaction=True)
def test_move_against_claim_one_winner(rep, admin_user, pool, team):
    """The lead moves to another pool the rep's team also uses. Meeting in the database, one
    wins and the other answers 409 (``already_claimed`` or ``changed``); one after the other,
    both apply in order (a lead claimed from its new pool, or a claimed customer moved), each
    logged once and the row in the state of the last."""
    target = PoolFactory(name="Elsewhere")
    target.teams.add(team)
    for _ in range(ROUNDS):
        lead = pooled(pool)

        outcomes = _race(
            lambda pk=lead.pk: services.claim_customer(rep=rep, customer_id=pk),
            lambda pk=lead.pk: services.move_customer_to_pool(
                actor=admin_user, customer_id=pk, pool_id=target.pk
            ),
        )

        statuses = [status for status, _ in outcomes]
        kinds = list(
            PoolEvent.objects.filter(customer_id=lead.pk).order_by("pk").values_list("kind", flat=True)
        )
        row = Customer.objects.get(pk=lead.pk)
        if statuses == ["ok", "ok"]:
            assert sorted(kinds) == sorted([PoolEventKind.MOVE, PoolEventKind.CLAIM])
            if kinds[-1] == PoolEventKind.CLAIM:
                assert (row.owner_id, row.pool_id) == (rep.pk, None)
            else:
                assert (row.owner_id, row.pool_id) == (None, target.pk)
            continue
        kind = _assert_one_winner(outcomes, lead, winner_kinds={PoolEventKind.CLAIM, PoolEventKind.MOVE})
        if kind == PoolEventKind.CLAIM:
            assert (row.owner_id, row.pool_id) == (rep.pk, None)
        else:
            assert (row.owner_id, row.pool_id) == (None, target.pk)


@pytest.mark.django_db(transaction=True)
def test_move_to_a_pool_the_rep_may_not_use_against_claim_one_winner(rep, admin_user, pool):
    target = PoolFactory(name="Closed")
    target.teams.add(TeamFactory(name="Elsewhere team"))
    for _ in range(ROUNDS):
        lead = pooled(pool)

        outcomes = _race(
            lambda pk=lead.pk: services.claim_customer(rep=rep, customer_id=pk),
            lambda pk=lead.pk: services.move_customer_to_pool(
                actor=admin_user, customer_id=pk, pool_id=target.pk
            ),
        )

        wins = [value for status, value in outcomes if status == "ok"]
        losses = [value for status, value in outcomes if status == "error"]
        if len(wins) == 2:  # the claim came first; the admin then moved the claimed customer
            assert list(
                PoolEvent.objects.filter(customer_id=lead.pk).order_by("pk").values_list("kind", flat=True)
            ) == [PoolEventKind.CLAIM, PoolEventKind.MOVE]
            continue
        assert len(wins) == 1, outcomes
        assert len(losses) == 1, outcomes
        # Losing to the move, the claim sees a lead in a pool its team may not use: 403
        # ``not_pool_member`` (it read after the move) or 409 (it read before).
        assert isinstance(losses[0], DomainError)
        assert losses[0].status_code in (403, 409)
        assert PoolEvent.objects.filter(customer_id=lead.pk).count() == 1

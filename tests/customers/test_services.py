import pytest

from customers import exceptions, normalization, selectors, services
from customers.models import Customer, Role, User
from tests.factories import CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_moving_a_rep_to_another_team_moves_their_customers_and_the_managers_view(rep, manager, other_rep):
    west = TeamFactory(name="North")
    west_manager = UserFactory(role=Role.MANAGER, team=west)
    west.manager = west_manager
    west.save()
    theirs = [CustomerFactory(owner=rep), CustomerFactory(owner=rep)]
    colleagues = CustomerFactory(owner=other_rep)

    services.change_user_team(user=rep, team_id=west.pk)

    assert User.objects.get(pk=rep.pk).team_id == west.pk
    assert set(Customer.objects.filter(owner=rep).values_list("team_id", flat=True)) == {west.pk}
    assert set(selectors.customers_visible_to(User.objects.get(pk=west_manager.pk))) == set(theirs)
    assert list(selectors.customers_visible_to(User.objects.get(pk=manager.pk))) == [colleagues]


def test_a_rep_cannot_protect_their_new_customer(rep):
    with pytest.raises(exceptions.NotAllowed):
        services.create_customer(actor=rep, data=services.CustomerData(name="Acme", is_protected=True))

    assert not Customer.objects.exists()


def test_a_manager_may_protect_a_new_customer(manager):
    customer = services.create_customer(
        actor=manager, data=services.CustomerData(name="Acme", is_protected=True)
    )

    assert customer.is_protected


def test_a_follow_up_never_moves_the_last_follow_up_back(rep):
    customer = CustomerFactory(owner=rep)
    recent = services.log_followup(actor=rep, customer=customer, kind="call")
    older = recent.at.replace(year=recent.at.year - 1)

    services.log_followup(actor=rep, customer=customer, kind="visit", at=older)

    customer.refresh_from_db()
    assert customer.last_followup_at == recent.at


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("上海华鑫精密机械有限公司", "上海华鑫精密机械"),
        ("ACME Ltd.", "acme"),
        ("Acme Limited", "acme"),
        ("\uff21\uff43\uff4d\uff45\u3000Co., Ltd", "acme"),  # full-width letters and space
    ],
)
def test_company_names_normalise_to_one_form(raw, normalised):
    assert normalization.normalize_company_name(raw) == normalised

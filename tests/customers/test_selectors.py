import pytest

from customers import selectors
from customers.models import Deal
from tests.factories import CustomerFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_rep_sees_only_own_customers(rep, other_rep):
    mine = CustomerFactory(owner=rep)
    CustomerFactory(owner=other_rep)

    assert list(selectors.customers_visible_to(rep)) == [mine]


def test_manager_sees_the_team_but_not_other_teams(manager, rep, other_rep, other_team_rep):
    ours = {CustomerFactory(owner=rep), CustomerFactory(owner=other_rep), CustomerFactory(owner=manager)}
    CustomerFactory(owner=other_team_rep)

    assert set(selectors.customers_visible_to(manager)) == ours


def test_admin_sees_everyone(admin_user, rep, other_team_rep):
    everyone = {CustomerFactory(owner=rep), CustomerFactory(owner=other_team_rep)}

    assert set(selectors.customers_visible_to(admin_user)) == everyone


def test_pooled_customers_are_not_in_anyones_list(admin_user, rep):
    CustomerFactory(pooled=True)

    assert not selectors.customers_visible_to(rep).exists()
    assert selectors.customers_visible_to(admin_user).count() == 1


def test_search_matches_name_anywhere_phone_and_email(rep):
    hit = CustomerFactory(owner=rep, name="上海星辰科技有限公司", phone="13812345678", email="hi@star.cn")
    CustomerFactory(owner=rep, name="Beijing Other Co")

    def search(term):
        return list(selectors.search_customers(user=rep, filters=selectors.CustomerFilters(search=term)))

    assert search("星辰") == [hit]
    assert search("138 1234 5678") == [hit]
    assert search("HI@star.cn") == [hit]


def test_manager_of_two_teams_sees_both(manager, rep, other_team_rep):
    west = other_team_rep.team
    west.manager = manager
    west.save()
    manager = type(manager).objects.get(pk=manager.pk)  # drop the cached team ids

    assert selectors.customers_visible_to(manager).count() == 0
    CustomerFactory(owner=rep)
    CustomerFactory(owner=other_team_rep)
    CustomerFactory(owner=UserFactory())  # a third team

    assert selectors.customers_visible_to(manager).count() == 2


@pytest.mark.parametrize(
    ("term", "compares_as_written"),
    [("科技", True), ("12", True), ("ab", False), ("星辰科技", False), ("ß", False)],
)
def test_a_short_caseless_term_matches_the_same_names_without_upper(admin_user, term, compares_as_written):
    """Terms of one or two characters without case compare names as written (no trigram could
    serve them, and upper() of every name was most of the count); the matches do not change."""
    names = [
        "上海星辰科技有限公司",
        "科技园餐厅",
        "Abc Trading",
        "ABC Holdings",
        "aBc 12 Co",
        "Straße 12 GmbH",
    ]
    for name in names:
        CustomerFactory(name=name)
    customers = selectors.search_customers(user=admin_user, filters=selectors.CustomerFilters(search=term))

    expected = {name for name in names if term.lower() in name.lower()}
    assert {customer.name for customer in customers} == expected
    assert ("UPPER(" not in str(customers.query)) == compares_as_written


def test_rep_choices_name_the_people_as_their_users_do(admin_user, manager, rep, other_rep, other_team_rep):
    chinese = UserFactory(first_name="强", last_name="陈", team=rep.team)

    for viewer in (admin_user, manager, rep):
        expected = [(user.pk, str(user)) for user in selectors.reps_visible_to(viewer)]
        assert selectors.rep_choices(viewer) == expected
    assert (chinese.pk, "陈强") in selectors.rep_choices(manager)


def test_of_visible_customers_keeps_the_rows_whose_customer_the_user_sees(
    admin_user, manager, rep, other_rep, other_team_rep
):
    deals = {
        who: DealFactory(customer=CustomerFactory(owner=who)) for who in (rep, other_rep, other_team_rep)
    }
    pooled = DealFactory(customer=CustomerFactory(pooled=True), owner=rep)  # a former owner's deal

    def seen(user):
        return set(selectors.of_visible_customers(Deal.objects.all(), user))

    assert seen(rep) == {deals[rep]}
    assert seen(manager) == {deals[rep], deals[other_rep]}
    # An admin sees every customer, pooled ones included, as customers_visible_to says: every
    # row, read without joining the customers at all.
    assert seen(admin_user) == {*deals.values(), pooled}
    assert seen(admin_user) == set(
        Deal.objects.filter(customer__in=selectors.customers_visible_to(admin_user))
    )
    assert "customers_customer" not in str(
        selectors.of_visible_customers(Deal.objects.all(), admin_user).query
    )
    assert "customers_customer" in str(selectors.of_visible_customers(Deal.objects.all(), rep).query)

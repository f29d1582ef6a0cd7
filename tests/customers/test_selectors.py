import pytest

from customers import selectors
from tests.factories import CustomerFactory, UserFactory

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

"""People's names as they are written: Chinese names family name first, no space (陈强), in both
languages; Latin-script names given name first. Greetings use the whole Chinese name."""

import pytest
from django.urls import reverse

from customers.models import User, person_name
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("given", "family", "written"),
    [
        ("强", "陈", "陈强"),
        ("小明", "欧阳", "欧阳小明"),
        ("Anna", "Weber", "Anna Weber"),
        ("", "陈", "陈"),
        ("Anna", "", "Anna"),
        (" 强 ", " 陈 ", "陈强"),
    ],
)
def test_person_name_puts_a_chinese_family_name_first(given, family, written):
    assert person_name(given=given, family=family) == written


def test_a_user_is_shown_by_name_and_greeted_by_the_whole_chinese_name():
    chen = User(username="cq", first_name="强", last_name="陈")
    anna = User(username="aw", first_name="Anna", last_name="Weber")
    nobody = User(username="rep9")

    assert (str(chen), chen.get_short_name()) == ("陈强", "陈强")
    assert (str(anna), anna.get_short_name()) == ("Anna Weber", "Anna")
    assert (str(nobody), nobody.get_short_name()) == ("rep9", "rep9")


@pytest.mark.django_db
def test_pages_in_chinese_show_the_family_name_first(client):
    user = UserFactory(username="cq", first_name="强", last_name="陈")
    client.force_login(user)

    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "陈强，您好" in html
    assert "强 陈" not in html

"""Styled, translated 403/404/500 pages; the 500 page renders with no request and no database."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views import defaults

from tests.factories import UserFactory

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.mark.django_db
def test_404_is_styled_and_speaks_the_users_language(client):
    client.force_login(UserFactory(username="rep"))

    english = client.get("/customers/999999/")
    chinese = client.get("/customers/999999/", **ZH)

    assert english.status_code == chinese.status_code == 404
    assert "css/app.css" in english.content.decode()
    assert "This page does not exist, or it is not yours to see" in english.content.decode()
    html = chinese.content.decode()
    assert 'lang="zh-hans"' in html
    assert "页面不存在" in html
    assert "This page does not exist" not in html
    assert reverse("public_pool:list") in html


@pytest.mark.django_db
def test_403_is_styled_and_translated(client, rep):
    client.force_login(rep)

    response = client.get(reverse("pool_manage:index"), **ZH)

    assert response.status_code == 403
    html = response.content.decode()
    assert "css/app.css" in html
    assert "无权打开此页面" in html
    assert "Your account may not open this page" not in html


def test_500_renders_without_a_request_context_or_a_database(django_db_blocker):
    """``server_error`` renders 500.html with an empty context; the database may be the reason
    for the error, so the page must not touch it (any query here raises: the db is blocked)."""
    request = RequestFactory().get("/")
    with django_db_blocker.block():
        with translation.override("zh-hans"):
            chinese = defaults.server_error(request)
        with translation.override("en"):
            english = defaults.server_error(request)

    assert chinese.status_code == english.status_code == 500
    assert "服务器出错了" in chinese.content.decode()
    assert 'lang="zh-hans"' in chinese.content.decode()
    assert "Something went wrong on our side" in english.content.decode()
    assert "css/app.css" in english.content.decode()

"""Password guessing is not free: lockout (django-axes), throttles, expiring and revocable tokens.

Every failure is counted per username and per client address on the token endpoint, the
login page and the admin login alike. The lock lasts ``AXES_COOLOFF_TIME`` after the failure
that set it; the tests move the recorded attempts back in time instead of waiting, and an
admin's unlock is the axes admin's own delete action.
"""

import re
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm_site import throttling
from customers.authentication import token_with_user
from customers.models import TokenActivity, User

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
LIMIT = settings.AXES_FAILURE_LIMIT
COOL_OFF = settings.AXES_COOLOFF_TIME


def wrong(client, username, *, times, **extra):
    return [
        client.post(TOKEN_URL, {"username": username, "password": "wrong"}, format="json", **extra)
        for _ in range(times)
    ]


def assert_locked_out(response):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "locked_out"
    assert set(response.json()) == {"code", "detail"}
    assert "Try again in" in response.json()["detail"]
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= COOL_OFF.total_seconds()
    return retry_after


def let_the_lock_end():
    """Time travel: every recorded failure happened a cool-off (and a second) earlier."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - COOL_OFF - timedelta(seconds=1))


# --- the API token endpoint -------------------------------------------------------------------


def test_six_wrong_passwords_lock_the_token_endpoint_with_retry_after(api_client, rep):
    assert LIMIT == 5

    answers = wrong(api_client, rep.username, times=6)

    assert [a.status_code for a in answers[: LIMIT - 1]] == [400] * (LIMIT - 1)
    assert {a.json()["code"] for a in answers[: LIMIT - 1]} == {"invalid_credentials"}
    for answer in answers[LIMIT - 1 :]:  # the failure that reaches the limit and the one after
        assert_locked_out(answer)
    right = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json")
    assert_locked_out(right)
    assert not Token.objects.exists()


def test_the_right_password_works_again_once_the_lock_ends(api_client, rep):
    wrong(api_client, rep.username, times=LIMIT)

    let_the_lock_end()
    right = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json")

    assert right.status_code == 200, right.content
    assert Token.objects.get(user=rep).key == right.json()["token"]


def test_retry_after_counts_down_to_the_end_of_the_lock(api_client, rep):
    wrong(api_client, rep.username, times=LIMIT)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))

    retry_after = assert_locked_out(wrong(api_client, rep.username, times=1)[0])

    remaining = (COOL_OFF - timedelta(minutes=10)).total_seconds()
    assert remaining - 5 <= retry_after <= remaining + 1


def test_one_username_is_locked_from_every_address(api_client, rep):
    for number in range(LIMIT):
        wrong(api_client, rep.username, times=1, REMOTE_ADDR=f"10.0.0.{number + 1}")

    from_a_new_address = api_client.post(
        TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json", REMOTE_ADDR="10.9.9.9"
    )

    assert_locked_out(from_a_new_address)


def test_one_address_is_locked_for_every_username(api_client, rep, other_rep):
    for number in range(LIMIT):
        wrong(api_client, f"guess{number}", times=1, REMOTE_ADDR="10.1.1.1")

    same_address = api_client.post(
        TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json", REMOTE_ADDR="10.1.1.1"
    )
    other_address = api_client.post(
        TOKEN_URL, {"username": other_rep.username, "password": "pw"}, format="json", REMOTE_ADDR="10.2.2.2"
    )

    assert_locked_out(same_address)
    assert other_address.status_code == 200


def test_a_successful_sign_in_forgets_earlier_failures(api_client, rep):
    wrong(api_client, rep.username, times=LIMIT - 1)
    assert (
        api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json").status_code
        == 200
    )

    again = wrong(api_client, rep.username, times=LIMIT - 1)

    assert {a.status_code for a in again} == {400}


def test_the_lockout_message_speaks_the_callers_language(api_client, rep):
    wrong(api_client, rep.username, times=LIMIT)

    response = api_client.post(
        TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 429
    assert "登录失败次数过多" in response.json()["detail"]


# --- the login page and the admin login ---------------------------------------------------------


def post_login(client, username, password, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def test_login_page_shows_the_lockout_message_and_refuses_the_right_password(rep):
    client = Client()
    answers = [post_login(client, rep.username, "wrong") for _ in range(LIMIT)]

    assert [a.status_code for a in answers[:-1]] == [200] * (LIMIT - 1)  # the form with its error
    locked = post_login(client, rep.username, "pw")

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= COOL_OFF.total_seconds()
    page = locked.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "ask an administrator to unlock your account" in page
    assert f'href="{reverse("login")}"' in page
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_login_page_lockout_message_in_chinese(rep):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(LIMIT):
        post_login(client, rep.username, "wrong")

    locked = post_login(client, rep.username, "pw")

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录失败次数过多" in page
    assert "登录已锁定" in page
    assert "Too many" not in page


def test_admin_login_locks_out_too(admin_user):
    client = Client()
    url = reverse("admin:login")
    for _ in range(LIMIT):
        post_login(client, admin_user.username, "wrong", url=url)

    locked = post_login(client, admin_user.username, "pw", url=url)

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert f'href="{url}"' in page
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_lock_set_on_the_login_page_holds_on_the_api_too(api_client, rep):
    client = Client()
    for _ in range(LIMIT):
        post_login(client, rep.username, "wrong")

    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json")

    assert_locked_out(response)


def test_an_admin_unlocks_from_the_admin_and_the_right_password_works_at_once(rep, admin_user):
    client = Client()
    for _ in range(LIMIT):
        post_login(client, rep.username, "wrong")
    assert post_login(client, rep.username, "pw").status_code == 429

    admin = Client()
    admin.force_login(admin_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = admin.get(changelist + "?locked_out=yes")
    assert listing.status_code == 200
    assert rep.username in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username=rep.username).values_list("pk", flat=True))
    assert attempts
    unlocked = admin.post(
        changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}
    )
    assert unlocked.status_code == 302
    assert not AccessAttempt.objects.filter(username=rep.username).exists()

    signed_in = post_login(client, rep.username, "pw")

    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(rep.pk)


def test_the_admin_index_links_to_the_lockouts(admin_user):
    admin = Client()
    admin.force_login(admin_user)

    index = admin.get(reverse("admin:index")).content.decode()

    assert reverse("admin:axes_accessattempt_changelist") in index


# --- tokens that expire and can be revoked --------------------------------------------------------


def get_token(client, user):
    response = client.post(TOKEN_URL, {"username": user.username, "password": "pw"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def idle_for(token_key, delta):
    """Time travel: the token was last used ``delta`` ago."""
    then = timezone.now() - delta
    Token.objects.filter(key=token_key).update(created=then)
    TokenActivity.objects.filter(token_id=token_key).update(last_used_at=then)


def test_the_token_answer_says_when_it_expires(api_client, rep):
    body = get_token(api_client, rep)

    expires_at = datetime.fromisoformat(body["expires_at"])
    expected = timezone.now() + timedelta(days=settings.API_TOKEN_IDLE_DAYS)
    assert abs((expires_at - expected).total_seconds()) < 60


def test_an_idle_token_expires_and_answers_401(api_client, rep):
    key = get_token(api_client, rep)["token"]
    idle_for(key, timedelta(days=settings.API_TOKEN_IDLE_DAYS, seconds=1))

    response = with_token(key).get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"
    assert not Token.objects.filter(key=key).exists()
    assert get_token(api_client, rep)["token"] != key  # a new sign-in gets a new key


def test_each_use_moves_the_expiry_on(api_client, rep):
    key = get_token(api_client, rep)["token"]
    idle_for(key, timedelta(days=settings.API_TOKEN_IDLE_DAYS - 1))

    assert with_token(key).get("/api/me/").status_code == 200

    last_used = TokenActivity.objects.get(token_id=key).last_used_at
    assert timezone.now() - last_used < timedelta(minutes=1)
    idle_for_a_day_more = timezone.now() + timedelta(days=1)
    assert last_used + timedelta(days=settings.API_TOKEN_IDLE_DAYS) > idle_for_a_day_more
    assert with_token(key).get("/api/me/").status_code == 200


def test_a_token_from_before_expiry_tracking_counts_from_its_creation(rep):
    token = Token.objects.create(user=rep)
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - timedelta(days=settings.API_TOKEN_IDLE_DAYS + 1)
    )

    assert with_token(token.key).get("/api/me/").status_code == 401


def test_the_token_lookup_reads_what_select_related_reads_in_one_statement(rep, django_assert_num_queries):
    """``customers.authentication.token_with_user`` (the precompiled look-up every API request
    makes) against the ORM's ``select_related`` it replaces: same token, same user row, and an
    absent activity row raises as after ``select_related``."""
    token = Token.objects.create(user=rep)

    with django_assert_num_queries(1):
        found = token_with_user(token.key)
        user = found.user

    orm = Token.objects.select_related("user", "activity").get(key=token.key)
    assert (found.key, found.created, found.user_id) == (orm.key, orm.created, orm.user_id)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(user, name) for name in fields] == [getattr(orm.user, name) for name in fields]
    with pytest.raises(TokenActivity.DoesNotExist):
        _ = found.activity
    used = TokenActivity.objects.create(token=token)
    assert token_with_user(token.key).activity.last_used_at == used.last_used_at
    assert token_with_user("not-a-key") is None


def test_delete_revokes_the_callers_token_then_it_answers_401(api_client, rep, other_rep):
    key = get_token(api_client, rep)["token"]
    other_key = get_token(api_client, other_rep)["token"]
    client = with_token(key)

    revoked = client.delete(TOKEN_URL)

    assert revoked.status_code == 204
    assert not Token.objects.filter(key=key).exists()
    after = client.get("/api/me/")
    assert after.status_code == 401
    assert after.json()["code"] == "authentication_failed"
    assert with_token(other_key).get("/api/me/").status_code == 200  # only the caller's


def test_delete_without_credentials_is_401(api_client):
    response = api_client.delete(TOKEN_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- throttles ---------------------------------------------------------------------------------

LOW_RATES = {"anon": "3/min", "user": "4/min"}


def redis_cache() -> dict[str, str]:
    """The deployed cache: Redis at the test Redis URL, under a key prefix of this test's own
    (workers share the Redis database; nothing is flushed)."""
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL: the throttle's Redis path needs a Redis server")
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": settings.REDIS_URL,
        "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
    }


@pytest.fixture(params=["locmem", "redis"])
def low_rates(request, monkeypatch):
    """Low rates, counted in the in-process cache (a development site) or in Redis (deployed).

    The throttles' clock stands still one second into a minute, so that a test's requests never
    straddle two windows (``test_a_window_ends_...`` moves it)."""
    monkeypatch.setattr(throttling.CountingThrottle, "timer", staticmethod(lambda: 60 * 29_000_000 + 1.0))
    if request.param == "redis":
        backend = redis_cache()
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW_RATES}
    with override_settings(CACHES={"default": backend}, REST_FRAMEWORK=rest):
        if request.param == "locmem":
            cache.clear()
        yield request.param
        if request.param == "locmem":
            cache.clear()


def test_the_suite_runs_with_rates_no_test_reaches():
    rates = cast("dict[str, str]", settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])

    assert set(rates) == {"anon", "user"}
    assert all(int(re.match(r"\d+", rate).group()) >= 10000 for rate in rates.values())


def test_anonymous_callers_are_throttled_per_address(low_rates, api_client, rep):
    answers = [api_client.post(TOKEN_URL, {}, format="json") for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    other_address = api_client.post(TOKEN_URL, {}, format="json", REMOTE_ADDR="10.3.3.3")
    assert other_address.status_code == 400


def test_signed_in_callers_are_throttled_per_user(low_rates, token_client, rep, other_rep):
    client = token_client(rep)

    answers = [client.get("/api/me/") for _ in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert int(answers[-1]["Retry-After"]) > 0
    assert token_client(other_rep).get("/api/me/").status_code == 200


def test_getting_a_token_starts_no_session(api_client, rep):
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw"}, format="json")

    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_a_forged_forwarded_for_header_does_not_escape_the_anonymous_throttle(low_rates, api_client):
    answers = [
        api_client.post(TOKEN_URL, {}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(4)
    ]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(api_client, rep):
    for n in range(LIMIT):
        wrong(api_client, f"guess{n}", times=1, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = api_client.post(
        TOKEN_URL,
        {"username": rep.username, "password": "pw"},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )

    assert_locked_out(response)


def test_a_window_ends_and_counting_starts_again_with_retry_after_to_its_end(
    low_rates, token_client, rep, monkeypatch
):
    """Fixed windows of the period (a minute here): the fifth request of a window is refused
    with ``Retry-After`` = what is left of the window, and the next window counts from zero."""
    clock = [60 * 1_000_000 + 50.2]  # 50.2 s into a minute
    monkeypatch.setattr(throttling.CountingThrottle, "timer", staticmethod(lambda: clock[0]))
    client = token_client(rep)

    answers = [client.get("/api/me/") for _ in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[-1]["Retry-After"] == "10"  # 9.8 s left, rounded up
    clock[0] += 9.8  # the next minute
    assert client.get("/api/me/").status_code == 200


def test_the_redis_counter_expires_with_its_window(token_client, rep):
    backend = redis_cache()
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": LOW_RATES}
    with override_settings(CACHES={"default": backend}, REST_FRAMEWORK=rest):
        assert token_client(rep).get("/api/me/").status_code == 200
        client = cast("Any", cache)._cache.get_client(write=False)
        keys = client.keys(f"{backend['KEY_PREFIX']}:*")
        assert len(keys) == 1, keys
        assert 0 < client.ttl(keys[0]) <= 60
        assert int(client.get(keys[0])) == 1

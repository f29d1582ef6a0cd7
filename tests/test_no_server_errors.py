"""No input answers a 5xx (API.md, "Answers"): dates out of range, odd pages, huge or malformed
ids, on every page and endpoint that takes them. Each answers 400 or 404 (a page may also keep
its defaults and answer 200 when a parameter it does not understand is only a hint, such as a
page number past the end); never 500, and under ``/api/`` always the JSON error body."""

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, PoolFactory

HUGE = "99999999999999999999999"

# (path, the statuses it may answer). Pages that clamp a page number answer 200 on purpose.
API_CASES = [
    # The list.
    ("/api/pool-events/?since=0001-01-01", {400}),
    ("/api/metrics/kpis/?from=9999-12-31", {400}),
    ("/api/metrics/kpis/?from=0001-01-01&to=0001-01-05&scope=rep&id=me", {400}),
    # Every other date, page and id parameter of the API.
    ("/api/pool-events/?until=9999-12-31T23:59:59", {400}),
    ("/api/pool-events/?since=9999-12-31", {400}),
    ("/api/pool-events/?since=1999-12-31", {400}),
    (f"/api/pool-events/?customer={HUGE}", {200, 400}),
    (f"/api/pool-events/?pool={HUGE}", {200, 400}),
    (f"/api/pool-events/?actor={HUGE}", {200, 400}),
    ("/api/pool-events/?page=abc", {404}),
    ("/api/pool-events/?page=0", {404}),
    (f"/api/pool-events/?page={HUGE}", {404}),
    ("/api/metrics/kpis/?to=9999-12-31", {400}),
    ("/api/metrics/kpis/?from=2999-12-31&to=2999-12-31", {200, 400}),
    ("/api/metrics/kpis/?from=0001-01-01", {400}),
    ("/api/metrics/kpis/?from=2024-13-45", {400}),
    (f"/api/metrics/kpis/?scope=team&id={HUGE}", {400, 404}),
    (f"/api/metrics/kpis/?scope=pool&id={HUGE}", {400, 404}),
    (f"/api/metrics/kpis/?scope=rep&id={HUGE}", {400, 404}),
    ("/api/customers/?page=abc", {404}),
    (f"/api/customers/?page={HUGE}", {404}),
    ("/api/customers/?page_size=-1", {200}),
    (f"/api/customers/?page_size={HUGE}", {200}),
    (f"/api/customers/?owner={HUGE}", {200, 400}),
    (f"/api/customers/?team={HUGE}", {200, 400}),
    (f"/api/customers/?pool={HUGE}", {200, 400}),
    ("/api/customers/abc/", {404}),
    (f"/api/customers/{HUGE}/", {404}),
    ("/api/customers/-1/", {404}),
    (f"/api/customers/{HUGE}/follow-ups/", {404}),
    ("/api/customers/abc/follow-ups/", {404}),
    (f"/api/pools/{HUGE}/", {404}),
    ("/api/pools/abc/", {404}),
    (f"/api/pools/{HUGE}/customers/", {404}),
    ("/api/pools/abc/customers/", {404}),
    (f"/api/recycle-rules/{HUGE}/", {404}),
    (f"/api/recycle-rules/?pool={HUGE}", {200, 400}),
    ("/api/recycle-rules/?page=abc", {404}),
    (f"/api/imports/{HUGE}/report/", {404}),
    ("/api/imports/abc/", {404}),
    ("/api/notifications/?page=abc", {404}),
    ("/api/notifications/?unread=maybe", {400}),
    ("/api/extension-requests/?page=abc", {404}),
    ("/api/nothing-here/", {404}),
    (f"/api/pools/{HUGE}/claim-next/", {404, 405}),
]

PAGE_CASES = [
    # The list.
    ("/metrics/?period=custom&from=0001-01-01&to=0001-01-02", {400}),
    ("/metrics/?period=custom&from=9999-12-30&to=9999-12-31", {400}),
    ("/metrics/scorecard/?quarter=9999-Q4", {400}),
    # Every other date, period, quarter, page and id parameter of the pages.
    ("/metrics/?from=9999-12-31", {400}),
    ("/metrics/?period=custom&from=2999-12-31&to=2999-12-31", {200, 400}),
    (f"/metrics/?scope=team&id={HUGE}", {400, 404}),
    (f"/metrics/?who=team-{HUGE}", {400, 404}),
    (f"/metrics/?who=rep-{HUGE}", {400, 404}),
    ("/metrics/?leaderboard_page=abc&churn_page=-1", {200}),
    (f"/metrics/?leaderboard_page={HUGE}", {200}),
    ("/metrics/scorecard/?quarter=0001-Q1", {400}),
    ("/metrics/scorecard/?quarter=2025-Q9", {200, 400}),
    (f"/metrics/scorecard/?scope=rep-{HUGE}", {404}),
    ("/metrics/scorecard/export.csv?quarter=9999-Q4", {400}),
    ("/metrics/settings/targets/?quarter=9999-Q4", {400}),
    ("/metrics/settings/scorecard/?quarter=9999-Q4", {200, 400}),
    (f"/metrics/settings/targets/?scope=team-{HUGE}", {404}),
    ("/customers/?page=abc", {200}),
    (f"/customers/?page={HUGE}", {200}),
    (f"/customers/?owner={HUGE}", {200, 400}),
    (f"/customers/?team={HUGE}", {200, 400}),
    (f"/customers/{HUGE}/", {404}),
    ("/customers/pipeline/?rep=abc", {200, 400}),
    (f"/customers/pipeline/?rep={HUGE}", {200, 400}),
    ("/pool/?page=abc", {200}),
    (f"/pool/?page={HUGE}", {200}),
    (f"/pool/{HUGE}/", {404}),
    ("/pool/mine/?page=-5", {200}),
    ("/pool/notifications/?page=abc", {200}),
    (f"/pool/customers/{HUGE}/events/", {404}),
    ("/pool/manage/events/?from=0001-01-01", {400}),
    ("/pool/manage/events/?to=9999-12-31", {400}),
    (f"/pool/manage/events/?pool={HUGE}&rep={HUGE}", {200, 400}),
    ("/pool/manage/events/?page=abc", {200}),
    ("/pool/manage/events.csv?from=0001-01-01&to=9999-12-31", {400}),
    (f"/pool/manage/pools/{HUGE}/events/", {404}),
    (f"/pool/manage/pools/{HUGE}/", {404}),
    ("/pool/manage/pools/?page=abc", {200}),
    ("/pool/manage/extensions/?page=abc", {200}),
    (f"/pool/manage/transfer/?customer={HUGE}", {200, 400, 404}),
    (f"/pool/manage/customers/change-owner/reps/?customer={HUGE}&page=abc", {200, 400, 404}),
    (f"/pool/imports/{HUGE}/", {404}),
    (f"/pool/imports/{HUGE}/report.csv", {404}),
    ("/pool/imports/?page=abc", {200}),
]


@pytest.fixture
def data(rep, admin_user, team):
    pool = PoolFactory(name="Odd input")
    pool.teams.add(team)
    CustomerFactory(owner=rep, team=team)
    return pool


@pytest.mark.parametrize(("path", "allowed"), API_CASES, ids=[case[0] for case in API_CASES])
@pytest.mark.parametrize("who", ["rep", "admin_user"])
def test_odd_api_input_answers_a_json_4xx_never_a_5xx(request, data, path, allowed, who):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(who))

    response = client.get(path)

    assert response.status_code < 500, response.content[:500]
    if who == "admin_user":
        assert response.status_code in allowed, response.content[:500]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), response.content[:300]
        body = response.json()
        assert set(body) >= {"code", "detail"}, body
        if response.status_code == 404:
            assert body["code"] == "not_found", body


@pytest.mark.parametrize(("path", "allowed"), PAGE_CASES, ids=[case[0] for case in PAGE_CASES])
def test_odd_page_input_answers_400_or_404_never_a_5xx(client, data, admin_user, path, allowed):
    client.force_login(admin_user)

    response = client.get(path)

    assert response.status_code in allowed, response.content[:500]


def test_a_json_body_over_the_limit_answers_413_too_large_and_creates_nothing(rep, settings):
    from customers.models import Customer

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = APIClient()
    client.force_authenticate(rep)

    response = client.post("/api/customers/", {"name": "Big Ltd", "note": "x" * 20_000}, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Customer.objects.filter(name="Big Ltd").exists()


def test_a_form_body_over_the_limit_answers_a_4xx(client, rep, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(rep)

    response = client.post("/customers/new/", {"name": "Big Ltd", "note": "x" * 20_000})

    assert response.status_code in (400, 413)


def test_nested_validation_errors_answer_the_one_flat_fields_shape(rep):
    client = APIClient()
    client.force_authenticate(rep)

    response = client.post("/api/customers/", {"name": "Acme Ltd", "tags": ["ok", ""]}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["tags.1"]
    assert all(isinstance(message, str) for message in body["fields"]["tags.1"])


def test_the_schema_documents_the_shared_statuses_and_a_required_release_reason(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "429"} <= documented, (method, path)
            if "{" in path:
                assert "404" in documented, (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "413", "415"} <= documented, (method, path)
    assert "404" in paths["/api/customers/"]["get"]["responses"]  # a page past the end
    release = paths["/api/customers/{customer_id}/release/"]["post"]["requestBody"]["content"]
    component = release["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "reason" in schema["components"]["schemas"][component]["required"]
    error = schema["components"]["schemas"]["Error"]["properties"]["fields"]
    assert error["allOf"][0]["$ref"].endswith("/FieldErrors")
    website = schema["components"]["schemas"]["Customer"]["properties"]["website"]
    assert {"maxLength": 0} in website["anyOf"]  # "" is a documented value

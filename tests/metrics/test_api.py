"""``GET /api/metrics/kpis/``: who may ask for which scope, the answer's shape and figures, and a
query count that does not grow with the period."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import DealStage, FollowUpKind, Source
from metrics.services import rollups as rollups_services
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory

pytestmark = pytest.mark.django_db

URL = "/api/metrics/kpis/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OWN_CODES = {
    "customer_conversion", "sales", "sales_growth", "retention", "churn", "new_customers",
    "acquisition_rate", "cac", "clv", "repurchase", "win_rate", "sales_cycle", "first_response",
    "followups", "nps", "csat",
}  # fmt: skip


def local(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def history(rep):
    """March: 1 call, a deal of 1000 won; April: 3 calls, deals of 1500 won and one lost."""
    customer = CustomerFactory(owner=rep, source=Source.WEBSITE, created_at=local("2025-01-01"))
    FollowUpFactory(customer=customer, kind=FollowUpKind.CALL, at=local("2025-03-20"))
    for day in ("2025-04-01", "2025-04-15", "2025-04-30"):
        FollowUpFactory(customer=customer, kind=FollowUpKind.CALL, at=local(day))
    DealFactory(customer=customer, stage=DealStage.WON, amount=Decimal("1000"), closed_at=local("2025-03-25"))
    DealFactory(customer=customer, stage=DealStage.WON, amount=Decimal("1500"), closed_at=local("2025-04-10"))
    DealFactory(customer=customer, stage=DealStage.LOST, closed_at=local("2025-04-11"))
    customer.first_won_at = local("2025-03-25")
    customer.save(update_fields=["first_won_at"])
    return customer


def april(**params):
    return {"from": "2025-04-01", "to": "2025-04-30", **params}


def test_a_rep_gets_their_own_figures_with_the_previous_period(rep, token_client):
    history(rep)
    rollups_services.rollup_days(since=dt.date(2025, 3, 1), until=dt.date(2025, 4, 15))  # the rest is live

    response = token_client(rep).get(URL, april(scope="rep", id="me"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["period"] == {"from": "2025-04-01", "to": "2025-04-30"}
    assert body["previous"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert body["scope"] == {"kind": "rep", "id": rep.pk}
    assert set(body["kpis"]) >= OWN_CODES
    assert body["kpis"]["followups"] == {
        "label": "Follow-ups",
        "unit": "count",
        "higher_is_better": True,
        "applicable": True,
        "reason": "",
        "value": 3,
        "previous": 1,
        "change": 200.0,  # (3 - 1) / 1
        "numerator": None,
        "denominator": None,
        "detail": {"by_kind": {"call": 3, "visit": 0, "email": 0, "meeting": 0, "message": 0}},
    }
    sales = body["kpis"]["sales"]
    assert (sales["value"], sales["previous"], sales["change"]) == (1500.0, 1000.0, 50.0)
    win = body["kpis"]["win_rate"]
    # April: 1 won, 1 lost -> 50 %; March: 1 won -> 100 %; change in percentage points
    assert (win["value"], win["previous"], win["change"], win["numerator"], win["denominator"]) == (50.0, 100.0, -50.0, 1, 2)  # fmt: skip
    assert body["kpis"]["nps"]["value"] is None  # no answers: no data, never 0
    assert body["kpis"]["cac"]["value"] is None  # not a rep's figure


def test_a_rep_may_name_themselves_by_id(rep, token_client):
    assert token_client(rep).get(URL, april(scope="rep", id=rep.pk)).status_code == 200


def test_a_rep_asking_for_a_colleague_gets_404(rep, other_rep, token_client):
    response = token_client(rep).get(URL, april(scope="rep", id=other_rep.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("scope", "key"), [("team", "team"), ("company", None), ("pool", "pool"), ("channel", "website")]
)
def test_a_rep_asking_for_any_other_scope_gets_403(rep, team, token_client, scope, key):
    ids = {"team": team.pk, "pool": PoolFactory().pk, "website": "website", None: ""}

    response = token_client(rep).get(URL, april(scope=scope, id=ids[key]))

    assert response.status_code == 403
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == "permission_denied"


def test_a_manager_sees_their_team_and_its_reps_only(manager, rep, team, other_team_rep, token_client):
    client = token_client(manager)

    assert client.get(URL, april(scope="team", id=team.pk)).status_code == 200
    assert client.get(URL, april(scope="rep", id=rep.pk)).status_code == 200
    assert client.get(URL, april(scope="team", id=other_team_rep.team_id)).status_code == 404
    assert client.get(URL, april(scope="rep", id=other_team_rep.pk)).status_code == 404
    assert client.get(URL, april(scope="company")).status_code == 403
    assert client.get(URL, april(scope="channel", id="website")).status_code == 403


def test_a_manager_sees_the_pools_their_teams_use(manager, team, token_client):
    theirs, others = PoolFactory(), PoolFactory()
    theirs.teams.add(team)
    client = token_client(manager)

    assert client.get(URL, april(scope="pool", id=theirs.pk)).status_code == 200
    assert client.get(URL, april(scope="pool", id=others.pk)).status_code == 404


def test_an_admin_sees_every_scope(admin_user, rep, team, token_client):
    history(rep)
    client = token_client(admin_user)

    company = client.get(URL, april())
    channel = client.get(URL, april(scope="channel", id="website"))

    assert company.status_code == 200
    assert company.json()["kpis"]["followups"]["value"] == 3
    assert channel.json()["kpis"]["sales"]["value"] == 1500.0
    assert client.get(URL, april(scope="team", id=team.pk)).status_code == 200
    assert client.get(URL, april(scope="pool", id=PoolFactory().pk)).status_code == 200
    assert client.get(URL, april(scope="team", id=999999)).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-04-30", "to": "2025-04-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"scope": "planet"}, "scope"),
        ({"scope": "channel", "id": "carrier-pigeon"}, "id"),
        ({"scope": "team"}, "id"),
        ({"from": "2020-01-01", "to": "2025-01-01"}, "to"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_user, token_client, params, field):
    response = token_client(admin_user).get(URL, params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_anonymous_callers_are_refused(api_client):
    response = api_client.get(URL)

    assert response.status_code in (401, 403)  # 403 with session auth first, as elsewhere
    assert response.json()["code"] == "not_authenticated"


def test_the_query_count_does_not_grow_with_the_period(rep, manager, team, token_client):
    history(rep)
    rollups_services.rollup_days(since=dt.date(2024, 1, 1), until=dt.date(2025, 4, 20))
    client = token_client(manager)
    client.get(URL, april(scope="team", id=team.pk))  # warm up (content types, the registry)
    counts = []
    for start in ("2025-04-01", "2025-01-01", "2024-05-01"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"from": start, "to": "2025-04-30", "scope": "team", "id": team.pk})
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2]


def test_the_endpoint_is_in_the_openapi_schema(admin_user, token_client):
    response = token_client(admin_user).get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    operation = response.json()["paths"]["/api/metrics/kpis/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "scope", "id"}


def test_a_kpi_that_does_not_apply_to_the_scope_says_so_with_the_reason(rep, token_client):
    body = token_client(rep).get(URL, april(scope="rep", id="me")).json()

    cac = body["kpis"]["cac"]
    assert (cac["value"], cac["applicable"]) == (None, False)
    assert cac["reason"]
    followups = body["kpis"]["followups"]
    assert (followups["applicable"], followups["reason"]) == (True, "")

"""Long customer lists show PostgreSQL's estimate of their length above
``CUSTOMER_LIST_EXACT_COUNT`` and are counted exactly below it (``customers.pagination``), on
the page and in the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from customers.pagination import EstimatingPaginator, rounded
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/customers/"


@pytest.fixture
def many(rep, other_team_rep):
    CustomerFactory.create_batch(6, owner=rep, name="星辰科技有限公司")
    CustomerFactory.create_batch(6, owner=other_team_rep)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")


def test_a_list_longer_than_the_threshold_answers_an_estimate(settings, token_client, admin_user, many):
    settings.CUSTOMER_LIST_EXACT_COUNT = 5

    body = token_client(admin_user).get(LIST_URL, {"page_size": 2}).json()

    assert body["count_is_estimate"] is True
    assert body["count"] == 12  # after ANALYZE, the planner knows the table's size
    assert len(body["results"]) == 2
    assert body["next"] is not None


def test_a_list_within_the_threshold_is_counted_exactly(settings, token_client, admin_user, rep, many):
    settings.CUSTOMER_LIST_EXACT_COUNT = 6

    body = token_client(rep).get(LIST_URL).json()

    assert (body["count"], body["count_is_estimate"]) == (6, False)


def test_the_estimate_is_the_planners_row_count(settings, admin_user, many):
    settings.CUSTOMER_LIST_EXACT_COUNT = 3
    paginator = EstimatingPaginator(Customer.objects.order_by("pk"), 2)

    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    assert paginator.count_is_estimate is True
    assert count == 12  # after ANALYZE, reltuples of an unfiltered list is the table's size
    assert len(queries) == 1  # the plan's estimate, no COUNT


def test_a_short_list_is_counted_after_the_estimate(settings, admin_user, many):
    paginator = EstimatingPaginator(Customer.objects.order_by("pk"), 2)

    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    assert (count, paginator.count_is_estimate) == (12, False)
    assert len(queries) == 1  # estimate and exact count in one statement (crm_list_count)


@pytest.mark.parametrize(("number", "shown"), [(7, 7), (99, 99), (1_000_117, 1_000_000), (121_226, 120_000)])
def test_estimates_are_rounded_to_two_significant_figures(number, shown):
    assert rounded(number) == shown


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_says_about(settings, client, admin_user, many, language):
    settings.CUSTOMER_LIST_EXACT_COUNT = 5
    client.force_login(admin_user)

    with translation.override(language):
        response = client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE=language)

    text = response.content.decode()
    assert response.context["page"].paginator.count_is_estimate
    assert ("about 12 customers" if language == "en" else "约 12 个客户") in text


def test_the_page_runs_the_same_queries_for_10_and_100_rows_when_estimating(
    settings, client, admin_user, rep
):
    settings.CUSTOMER_LIST_EXACT_COUNT = 50
    CustomerFactory.create_batch(120, owner=rep)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    client.force_login(admin_user)
    client.get(reverse("customers:list"))

    counts = {}
    for page_size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("customers:list"), {"page_size": page_size})
        assert response.context["page"].paginator.count_is_estimate
        counts[page_size] = len(queries)

    assert counts[10] == counts[100] <= 8


def test_the_schema_documents_the_estimate_and_the_slim_ownership_answer(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]

    def answer(path, method):
        content = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        return components[content["schema"]["$ref"].rsplit("/", 1)[-1]]

    listing = answer("/api/customers/", "get")
    assert {"count", "count_is_estimate", "next", "previous", "results"} <= set(listing["properties"])
    assert "count_is_estimate" in listing["required"]
    slim = {"id", "name", "owner", "team", "pool", "home_pool", "claimed_at", "recycle_due_at"}
    for path in (
        "/api/customers/{customer_id}/claim/",
        "/api/pools/{pool_id}/claim-next/",
        "/api/customers/{customer_id}/release/",
        "/api/customers/{customer_id}/assign/",
    ):
        assert slim | {"recycle_rule", "recycle_trigger"} == set(answer(path, "post")["properties"]), path

"""Counting long customer lists: exact when short, estimated when long (issue 12).

An exact ``COUNT(*)`` of a list reads every matching row (or index entry). For an admin's
unfiltered list that is the whole customer table, and for a common two-character search
(``科技``, in about one company name in eight) it is a scan of every name: the trigram index
cannot help a term shorter than three characters. At 1,000,000 customers either takes longer
than the rest of the page together, and even a count that stops at 10,001 matches has to read
some 300,000 names to find them for ``科技``.

So :class:`EstimatingPaginator` first asks PostgreSQL how many rows the list has (the
planner's row estimate of the same query under ``EXPLAIN``, which plans but runs nothing: the
table's ``reltuples`` for an unfiltered list, the column statistics for a filter or a search).
Up to ``settings.CUSTOMER_LIST_EXACT_COUNT`` (10,000) it counts exactly, as before. Both
happen in one statement, the database function ``crm_list_count`` (migration
``customers.0007``), so a list costs the same number of queries as with a plain ``COUNT``. Above it
the count is that estimate rounded to two significant figures and ``count_is_estimate`` is
true: the page says "about 1,000,000 customers", the API answers the estimate in ``count``
with ``"count_is_estimate": true``. The number of pages follows the estimate, so a page past
the real end is empty rather than an error. A rep's list and most filtered lists stay exact.
Elsewhere than PostgreSQL every count is exact.

An estimate can be off, in both directions: a list the planner over-estimates past the
threshold shows "about" a number larger than it is, one it under-estimates is counted
exactly (slower, never wrong). For the unfiltered list the estimate is within the table's
churn since the last ``ANALYZE`` (autovacuum keeps it within a few percent).
"""

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from rest_framework.response import Response

from crm_site.api import PageNumberPagination


def estimated_rows(queryset: QuerySet[Any]) -> int:
    """The planner's estimate of the rows ``queryset`` returns (PostgreSQL; plans, runs nothing)."""
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(queryset: QuerySet[Any], exact_up_to: int) -> tuple[int, bool]:
    """(count, whether it is an estimate) in one round trip: ``crm_list_count`` (migration
    ``customers.0007``) plans the query, and counts it only when the plan expects at most
    ``exact_up_to`` rows. The query goes as text with its parameters quoted by the driver."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params)
        query = query.decode() if isinstance(query, bytes) else query  # psycopg2 answers bytes
        cursor.execute("SELECT total, estimated FROM crm_list_count(%s, %s)", [query, exact_up_to])
        total, estimated = cursor.fetchone()
    return int(total), bool(estimated)


class EstimatingPaginator(Paginator):
    """A ``Paginator`` whose ``count`` is exact for lists PostgreSQL expects to hold at most
    ``CUSTOMER_LIST_EXACT_COUNT`` rows and an estimate for longer ones (module docstring);
    ``count_is_estimate`` says which."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        total, self.count_is_estimate = list_count(queryset, settings.CUSTOMER_LIST_EXACT_COUNT)
        return rounded(total) if self.count_is_estimate else total


def rounded(number: int) -> int:
    """``number`` to two significant figures (1,000,117 → 1,000,000; 121,226 → 120,000)."""
    digits = len(str(number))
    return round(number, 2 - digits) if digits > 2 else number


class EstimatedCountPagination(PageNumberPagination):
    """For lists that can be very long (the customer list): ``count`` is exact up to
    ``CUSTOMER_LIST_EXACT_COUNT`` and PostgreSQL's estimate above it (two significant figures),
    and the answer says which in ``count_is_estimate`` (module docstring)."""

    django_paginator_class = EstimatingPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator if self.page is not None else None
        estimated = bool(getattr(paginator, "count_is_estimate", False))
        response.data = {"count": response.data["count"], "count_is_estimate": estimated} | {
            key: value for key, value in response.data.items() if key != "count"
        }
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["description"] = (
            "Exact up to the site's CUSTOMER_LIST_EXACT_COUNT (10,000); above it PostgreSQL's "
            "estimate, to two significant figures."
        )
        answer["properties"] = {
            "count": answer["properties"]["count"],
            "count_is_estimate": {
                "type": "boolean",
                "description": "Whether count is an estimate (a list longer than the exact-count threshold).",
            },
        } | {key: value for key, value in answer["properties"].items() if key != "count"}
        answer["required"] = [*answer.get("required", []), "count_is_estimate"]
        return answer

"""The OpenAPI schema and the browsable docs: complete, warning-free, and usable offline."""

import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db

FIXED_PATHS = {
    "/api/auth/token/": {"post"},
    "/api/me/": {"get"},
    "/api/customers/": {"get", "post"},
    "/api/customers/{customer_id}/": {"get", "patch"},
    "/api/customers/{customer_id}/follow-ups/": {"get", "post"},
}
FIXED_CUSTOMER_FIELDS = {"id", "name", "owner", "pool", "phone", "email", "level", "last_followup_at"}


def test_schema_generates_without_warnings_and_validates(tmp_path):
    """What ``manage.py spectacular --validate --fail-on-warn`` checks, for every app's endpoints."""
    GENERATOR_STATS.reset()  # warnings are counted per process; count only this generation
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    for path, methods in FIXED_PATHS.items():
        assert methods <= set(schema["paths"][path]), path


def test_schema_endpoint_serves_the_fixed_paths_and_fields(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    for path, methods in FIXED_PATHS.items():
        assert methods <= set(schema["paths"][path]), path
    components = schema["components"]["schemas"]
    assert set(components["Customer"]["properties"]) >= FIXED_CUSTOMER_FIELDS
    assert {"count", "next", "previous", "results"} <= set(components["PaginatedCustomerList"]["properties"])
    assert {"code", "detail", "fields"} <= set(components["Error"]["properties"])
    list_parameters = {p["name"] for p in schema["paths"]["/api/customers/"]["get"]["parameters"]}
    assert {
        "owner",
        "team",
        "level",
        "stage",
        "source",
        "industry",
        "search",
        "ordering",
        "page",
        "page_size",
    } <= (list_parameters)
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_loads_only_local_static_assets(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://", html), "the docs must work with no internet"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    # The start-up script comes from the page's own URL (no inline script: the CSP forbids it).
    script = [a for a in assets if a.startswith("/api/docs/?")]
    assert len(script) == 1
    for asset in set(assets) - set(script):
        assert asset.startswith(f"/{settings.STATIC_URL.lstrip('/')}"), asset
        assert finders.find(asset.split("?")[0].removeprefix(f"/{settings.STATIC_URL.lstrip('/')}")), asset
    start_up = client.get(script[0].replace("&amp;", "&"))
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in start_up.content.decode()

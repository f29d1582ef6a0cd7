"""Headers every answer carries, and ``check --deploy`` clean under docker-compose's environment."""

import os
import subprocess
import sys
from typing import cast

import pytest
from csp.constants import NONCE, SELF
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from crm_site.headers import CSPMiddleware
from tests.test_docker_compose import ROOT, load_compose

pytestmark = pytest.mark.django_db


def policy_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/schema/", "/healthz-missing/"])
def test_every_answer_carries_the_policy_and_the_headers(path):
    response = Client().get(path)

    policy = policy_of(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline scripts, no eval, no other origin
    assert policy["style-src"] == "'self'"  # no <style> elements, no stylesheets from elsewhere
    assert policy["style-src-attr"] == "'unsafe-inline'"  # the one allowance: ECharts' SVG
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "Content-Security-Policy-Report-Only" not in response
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_api_answers_carry_the_policy_too(token_client, rep):
    response = token_client(rep).get("/api/me/")

    assert response.status_code == 200
    assert policy_of(response)["default-src"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"


def _both_middlewares(request, response_for):
    """The header of django-csp's own middleware and of ours (crm_site/headers.py) for the
    same request and an equal response."""
    answers = []
    for middleware in (BaseCSPMiddleware, CSPMiddleware):
        instance = middleware(lambda request: response_for())
        answers.append(instance(request))
    return answers


@pytest.mark.parametrize("per_view", [None, "_csp_update", "_csp_replace", "_csp_config", "_csp_exempt"])
def test_the_built_once_policy_equals_django_csps(per_view):
    """The cached header is django-csp's for the site's settings; a view's own policy (a
    decorator's attribute on the response) goes through django-csp's code unchanged."""

    def response_for():
        response = HttpResponse("ok")
        if per_view == "_csp_exempt":
            setattr(response, per_view, True)
        elif per_view == "_csp_config":
            setattr(response, per_view, {"default-src": ["'none'"]})
        elif per_view is not None:
            setattr(response, per_view, {"img-src": ["data:"]})
        return response

    theirs, ours = _both_middlewares(RequestFactory().get("/customers/"), response_for)

    assert ours.get("Content-Security-Policy") == theirs.get("Content-Security-Policy")
    if per_view == "_csp_exempt":
        assert "Content-Security-Policy" not in ours
    else:
        assert policy_of(ours)  # a header was written


def test_a_nonce_asked_for_goes_into_the_header():
    """No page uses one today; a policy that names NONCE gets the request's nonce (django-csp's path)."""
    with_nonce = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    request = RequestFactory().get("/customers/")
    middleware = CSPMiddleware(lambda request: HttpResponse(str(request.csp_nonce)))

    with override_settings(CONTENT_SECURITY_POLICY=with_nonce):
        response = cast("HttpResponse", middleware(request))

    assert f"'nonce-{response.content.decode()}'" in response["Content-Security-Policy"]


def test_changed_settings_change_the_header():
    changed = {**settings.CONTENT_SECURITY_POLICY, "DIRECTIVES": {"default-src": ["'none'"]}}
    before = Client().get("/accounts/login/")["Content-Security-Policy"]

    with override_settings(CONTENT_SECURITY_POLICY=changed):
        during = Client().get("/accounts/login/")["Content-Security-Policy"]

    assert during == "default-src 'none'"
    assert Client().get("/accounts/login/")["Content-Security-Policy"] == before


def test_signed_in_pages_carry_it_too(client, rep):
    client.force_login(rep)

    response = client.get("/customers/")

    assert response.status_code == 200
    assert policy_of(response)["script-src"] == "'self'"


def test_no_template_has_inline_scripts_handlers_or_style_attributes():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for needle in (
            "<script>",
            '<script type="text/javascript">',
            " onclick=",
            " onchange=",
            " onsubmit=",
            " onload=",
            " oninput=",
            ' style="',
            "javascript:",
        ):
            if needle in text:
                offenders.append(f"{template.relative_to(ROOT)}: {needle.strip()}")

    assert offenders == []


def test_check_deploy_is_clean_under_the_docker_compose_environment():
    environment = load_compose()["services"]["web"]["environment"]
    env = {
        **{key: str(value) for key, value in environment.items()},
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        "DJANGO_ENV_FILE": os.devnull,
        # A secret as an operator makes one (the compose test's placeholder is too short for W009).
        "DJANGO_SECRET_KEY": "kq3V8-" + "x7Lp2_Rf9Zt4Wb1Nc6Hd0Mg5Js8Ya3Ue7Io" * 2,
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout

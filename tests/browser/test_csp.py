"""Every main page under the enforced Content-Security-Policy, in Chromium: no violation.

The demo data (``seed_demo``, small) gives each page something to draw: the dashboard's
ECharts charts, the pool with leads, the assign page, imports, notifications, the scorecard,
the pool manager's pages and the admin. Each page is loaded as the rep, the manager and the
admin where they may open it; a ``securitypolicyviolation`` listener (added by the browser
before any page script, so the policy cannot block it) and the console's errors are collected,
and the test fails on any of either. Opening the user menu and hovering a chart exercise
Bootstrap's and ECharts' styling at run time too.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from customers.models import Customer, Role, User
from public_pool.models import ImportBatch, Pool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " +
    (event.sourceFile || location.pathname) + ":" + event.lineNumber
  );
});
"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", customers=120, reps=3, managers=1, password="pw", verbosity=0)
    rep = User.objects.filter(role=Role.REP, username="rep1").get()
    pool = Pool.objects.order_by("pk").first()
    return {
        "rep": rep,
        "customer": Customer.objects.filter(owner=rep).order_by("pk").first(),
        "pool": pool,
        "import": ImportBatch.objects.order_by("pk").first(),
    }


def pages_for(role: str, demo: dict) -> list[str]:
    customer, pool = demo["customer"], demo["pool"]
    every_role = [
        "/",
        "/customers/",
        "/customers/new/",
        "/customers/pipeline/",
        "/pool/",
        f"/pool/{pool.pk}/",
        "/pool/mine/",
        "/pool/notifications/",
        "/pool/returned/",
        "/metrics/",
        "/metrics/scorecard/",
    ]
    if role == "rep":
        return [*every_role, f"/customers/{customer.pk}/", f"/customers/{customer.pk}/edit/"]
    managing = [
        *every_role,
        f"/customers/{customer.pk}/",
        "/pool/manage/",
        f"/pool/manage/pools/{pool.pk}/assign/",
        f"/pool/manage/pools/{pool.pk}/events/",
        "/pool/manage/transfer/",
        "/pool/manage/extensions/",
        "/pool/manage/events/",
    ]
    if role == "manager":
        return managing
    admin_pages = [
        *managing,
        f"/pool/manage/pools/{pool.pk}/rules/",
        f"/pool/manage/pools/{pool.pk}/rules/new/",
        "/pool/manage/pools/",
        "/pool/manage/pools/new/",
        f"/pool/manage/pools/{pool.pk}/",
        f"/pool/manage/pools/{pool.pk}/weights/",
        "/pool/manage/reasons/",
        "/pool/manage/schedules/",
        "/pool/imports/",
        "/metrics/settings/targets/",
        "/metrics/settings/scorecard/",
        "/admin/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{customer.pk}/change/",
        "/admin/customers/user/",
        "/admin/axes/accessattempt/",
        "/api/docs/",
    ]
    if demo["import"] is not None:
        admin_pages.append(f"/pool/imports/{demo['import'].pk}/")
    return admin_pages


def watch(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` from now on, as they happen."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return errors


def visit(page: Page, path: str, errors: list[str]) -> list[str]:
    """Load ``path``, let its scripts run, poke the run-time styling; what went wrong there."""
    errors.clear()
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, (path, response.status)
    policy = response.headers.get("content-security-policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'", (path, policy)
    assert directives["style-src"] == "'self'", (path, policy)
    assert [name for name, value in directives.items() if "unsafe-inline" in value] == ["style-src-attr"]
    # "load", not "networkidle": pages that poll (import progress) never go idle on a busy machine.
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # violation events are dispatched after the fact
    charts = page.locator("[data-chart]")
    if charts.count():
        expect(charts.first).to_have_attribute("data-rendered", "true")
        charts.first.hover()
    menu = page.locator("#user-menu .dropdown-toggle")
    if menu.count() and menu.is_visible():
        menu.click()
        expect(page.locator("#user-menu .dropdown-menu")).to_be_visible()
    violations = page.evaluate("window.__cspViolations || []")
    return [f"{path}: {item}" for item in [*violations, *errors]]


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_every_main_page_passes_the_content_security_policy(signed_in, demo, role):
    username = {"rep": "rep1", "manager": "manager1", "admin": "admin"}[role]
    page = signed_in(username)
    page.context.add_init_script(RECORD_VIOLATIONS)
    errors = watch(page)
    problems = []

    for path in pages_for(role, demo):
        problems += visit(page, path, errors)

    assert problems == [], "\n".join(problems)


def test_the_login_and_lockout_pages_pass_too(page, demo):
    page.context.add_init_script(RECORD_VIOLATIONS)
    problems = visit(page, "/accounts/login/", watch(page))
    for _attempt in range(5):
        page.locator("#id_username").fill("rep1")
        page.locator("#id_password").fill("wrong")
        page.locator("#id_password").press("Enter")
        page.wait_for_load_state()
        if page.locator("#lockout-message").count():
            break

    expect(page.locator("#lockout-message")).to_contain_text("Too many failed sign-in attempts")
    expect(page.get_by_role("link", name="Back to sign in")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []
    assert re.search(r"/accounts/login/$", page.url)
    assert problems == []


@pytest.mark.parametrize(("language", "width", "height"), [("en", 1366, 900), ("zh-hans", 390, 844)])
def test_the_lockout_page_reads_well_on_desktop_and_phone(
    browser, live_server, demo, artifacts, language, width, height
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto("/accounts/login/")
    for _attempt in range(5):
        page.locator("#id_username").fill("rep1")
        page.locator("#id_password").fill("wrong")
        page.locator("#id_password").press("Enter")
        page.wait_for_load_state()

    message = page.locator("#lockout-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text(
        "登录失败次数过多" if language == "zh-hans" else "Too many failed sign-in attempts"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artifacts / f"lockout-{language}-{width}.png", full_page=True)
    context.close()

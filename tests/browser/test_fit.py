"""Every main page fits a phone (390 x 844) and a laptop (1366 x 900), in English and Chinese.

For each page: nothing overflows sideways (``document.documentElement.scrollWidth <=
window.innerWidth``), and the page's primary action button is on screen once scrolled to (never
off to the right, never under something else). The navigation fits 1366 px on one line for a
rep, a manager and an admin, and no nav label breaks inside a word. A screenshot of every page,
size and language is kept under ``test-artifacts/fit/`` to be looked at.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page

from customers.models import DealStage, FollowUpKind, Role
from public_pool import services
from public_pool.models import ImportBatch, ImportStatus, Notification, NotificationKind, ReleaseReason
from tests.factories import (
    CustomerFactory,
    DealFactory,
    FollowUpFactory,
    PoolFactory,
    RecycleRuleFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "laptop": (1366, 900)}
LANGUAGES = ["en", "zh-hans"]


def _people():
    team = TeamFactory(name="华东一组")
    manager = UserFactory(username="manager", first_name="敏", last_name="王", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save(update_fields=["manager"])
    rep = UserFactory(username="rep", first_name="强", last_name="陈", team=team)
    colleague = UserFactory(username="colleague", first_name="Anna", last_name="Weber", team=team)
    admin = UserFactory(username="admin", first_name="Admin", last_name="Istrator", admin=True)
    return team, manager, rep, colleague, admin


def _world():
    """A small company with a bit of everything each main page shows."""
    team, manager, rep, colleague, admin = _people()
    pool = PoolFactory(
        name="华东公海 East leads", max_held_per_rep=60, max_claims_per_day=10, cooldown_days=7
    )
    pool.teams.add(team)
    rule = RecycleRuleFactory(pool=pool, name="30 天未跟进 / 30 quiet days", no_followup_days=30)
    names = [
        "苏州园林科技有限公司",
        "Ningbo Port Logistics Co., Ltd.",
        "杭州西湖茶业",
        "Wuxi Precision Casting",
    ]
    leads = [
        CustomerFactory(
            pooled=True, pool=pool, home_pool=pool, name=name, priority_score=90 - i, phone=f"1381234567{i}"
        )
        for i, name in enumerate(names)
    ]
    # History on the leads: one released by a colleague with a reason, one the rep released (cooldown).
    # Live-server tests empty the database between tests: the migration's reasons may be gone.
    reason, _created = ReleaseReason.objects.get_or_create(
        code="no_budget", defaults={"label": "No budget", "label_zh": "没有预算"}
    )
    for lead, who in ((leads[0], colleague), (leads[1], rep)):
        services.assign_customer(actor=manager, customer_id=lead.pk, rep=who)
        services.release_customer(actor=who, customer_id=lead.pk, reason=reason.code)
    now = timezone.now()
    owned = []
    for i, name in enumerate(["上海精密仪器股份有限公司", "Chengdu Software Park", "深圳湾电子"]):
        customer = CustomerFactory(
            owner=rep, home_pool=pool, name=name, claimed_at=now - timedelta(days=20 + i)
        )
        services.refresh_recycle_policies(customers=type(customer).objects.filter(pk=customer.pk))
        FollowUpFactory(
            customer=customer, by=rep, kind=FollowUpKind.CALL, at=now - timedelta(days=2), note="谈了报价"
        )
        DealFactory(
            customer=customer,
            owner=rep,
            title=f"年度采购 {i}",
            stage=DealStage.NEGOTIATION,
            amount=Decimal("88000"),
        )
        owned.append(customer)
    CustomerFactory(owner=colleague, name="Xiamen Ferries")
    # One of the rep's customers went back to the pool: "Returned to the pool" has a row.
    lost = CustomerFactory(
        owner=rep, home_pool=pool, name="南京长江贸易有限公司", claimed_at=now - timedelta(days=45)
    )
    services.refresh_recycle_policies(customers=type(lost).objects.filter(pk=lost.pk))
    services.recycle_stale_customers()
    Notification.objects.create(
        user=rep,
        kind=NotificationKind.RECYCLE_WARNING,
        customer=owned[0],
        due_at=now + timedelta(days=2),
        params={"customer": owned[0].name},
    )
    ImportBatch.objects.create(
        pool=pool,
        created_by=admin,
        file_name="华东线索-2024.csv",
        status=ImportStatus.DONE,
        total_rows=120,
        created_count=110,
        duplicate_count=7,
        error_count=3,
        finished_at=now,
    )
    return {
        "pool": pool,
        "customer": owned[0],
        "rep": rep,
        "manager": manager,
        "admin": admin,
        "rule": rule,
        "reason": reason,
    }


def _pages(world):
    """(who, name, url, primary action selector)."""
    pool, customer = world["pool"], world["customer"]
    return [
        ("rep", "home", "/", "main a.btn-primary"),
        ("rep", "my-customers", "/customers/", "main a.btn-primary"),
        ("rep", "pool-list", "/pool/", "main a.card"),
        ("rep", "pool", f"/pool/{pool.pk}/", "button[data-claim-state='live']"),
        ("rep", "days-left", "/pool/mine/", "#my-customers summary.btn"),
        ("rep", "customer", f"/customers/{customer.pk}/", "#followup-form button[type=submit]"),
        ("rep", "pipeline", "/customers/pipeline/", ".pipeline-card a"),
        ("rep", "notifications", "/pool/notifications/", "main button.btn-outline-secondary"),
        ("rep", "returned", "/pool/returned/", "#returned .claim-button"),
        ("manager", "team-customers", "/customers/", "main a.btn-primary"),
        # With a filter on, the "Filters" button carries a count: it once pushed the search row
        # a pixel past a phone's edge in English.
        (
            "manager",
            "team-customers-filtered",
            "/customers/?level=A&q=%E7%A7%91",
            "form[role=search] .btn-primary",
        ),
        ("manager", "assign", f"/pool/manage/pools/{pool.pk}/assign/", "#assign-submit"),
        ("manager", "transfer", f"/pool/manage/customers/{customer.pk}/transfer/", "#transfer-submit"),
        ("manager", "dashboard", "/metrics/", "#dashboard-picker button[type=submit]"),
        ("admin", "import", "/pool/imports/", "main form button[type=submit]"),
        # Configuration pages (admins; the events log is a manager's too).
        ("manager", "pool-events", "/pool/manage/events/", "main form button.btn-primary[type=submit]"),
        ("admin", "pools", "/pool/manage/pools/", "main a.btn-primary"),
        ("admin", "pool-new", "/pool/manage/pools/new/", "main form button.btn-primary[type=submit]"),
        ("admin", "pool-edit", f"/pool/manage/pools/{pool.pk}/", "main form button.btn-primary[type=submit]"),
        ("admin", "rules", f"/pool/manage/pools/{pool.pk}/rules/", "main a.btn-primary"),
        ("admin", "rule-edit", f"/pool/manage/rules/{world['rule'].pk}/", "#rule-form button[type=submit]"),
        (
            "admin",
            "priority-weights",
            f"/pool/manage/pools/{pool.pk}/weights/",
            "#weights-form button[type=submit]",
        ),
        ("admin", "reasons", "/pool/manage/reasons/", "main a.btn-primary"),
        (
            "admin",
            "reason-edit",
            f"/pool/manage/reasons/{world['reason'].pk}/",
            "main form button.btn-primary[type=submit]",
        ),
        ("admin", "kpi-targets", "/metrics/settings/targets/", "main form.card button[type=submit]"),
        ("admin", "scorecard-weights", "/metrics/settings/scorecard/", "#weights-form button[type=submit]"),
        ("admin", "audit-log", "/audit/", "main form button.btn-primary[type=submit]"),
        ("admin", "jobs", "/pool/manage/schedules/", "#job-list form button.btn-primary"),
    ]


def _problems_on(page: Page, name: str, selector: str) -> list[str]:
    problems = []
    scroll_width, width, height = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, window.innerHeight]"
    )
    if scroll_width > width:
        problems.append(f"{name}: page is {scroll_width}px wide in a {width}px window")
    action = page.locator(selector).first
    if action.count() == 0 or not action.is_visible():
        problems.append(f"{name}: primary action {selector!r} not visible")
        return problems
    action.scroll_into_view_if_needed()
    box = action.bounding_box()
    if (
        box is None
        or box["x"] < 0
        or box["x"] + box["width"] > width
        or box["y"] < 0
        or box["y"] + box["height"] > height
    ):
        problems.append(f"{name}: primary action {selector!r} outside the viewport: {box}")
    return problems


def _nav_problems(page: Page, who: str) -> list[str]:
    """At 1366 px the bar is one line; every label stays on one line; the user menu is on screen."""
    problems = []
    nav = page.get_by_role("navigation", name=re.compile("Main navigation|主导航")).bounding_box()
    if nav is None or nav["height"] > 72:
        problems.append(f"nav ({who}): {nav and nav['height']}px high, wraps")
    for link in page.locator(".app-navbar .navbar-nav > .nav-item > .nav-link").all():
        box = link.bounding_box()
        if box and box["height"] > 48:
            problems.append(f"nav ({who}): {link.inner_text()!r} breaks over lines ({box['height']}px)")
    menu = page.locator("#user-menu > .nav-link").bounding_box()
    if menu is None or menu["x"] + menu["width"] > 1366:
        problems.append(f"nav ({who}): the user menu is off screen: {menu}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size_name", list(SIZES))
def test_every_main_page_fits_with_its_primary_action_on_screen(signed_in, artifacts, language, size_name):
    world = _world()
    folder = artifacts / "fit"
    folder.mkdir(exist_ok=True)
    size = SIZES[size_name]
    sessions: dict[str, Page] = {}
    problems: list[str] = []
    for who, name, url, selector in _pages(world):
        if who not in sessions:
            sessions[who] = signed_in(who, language, *size)
            if size_name == "laptop":
                problems += _nav_problems(sessions[who], who)
                sessions[who].screenshot(path=str(folder / f"nav-{who}-{language}-{size_name}.png"))
        page = sessions[who]
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, f"{name}: {response.status}"
        assert page.locator("html").get_attribute("lang") == language
        page.wait_for_load_state("networkidle")
        problems += _problems_on(page, name, selector)
        page.screenshot(path=str(folder / f"{name}-{language}-{size_name}.png"), full_page=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size_name", list(SIZES))
def test_a_long_customer_list_says_about_how_many_and_fits(
    signed_in, artifacts, settings, language, size_name
):
    """An admin's list longer than CUSTOMER_LIST_EXACT_COUNT shows PostgreSQL's estimate in words
    (customers.pagination); the threshold is lowered so that a small world is "long"."""
    _world()
    settings.CUSTOMER_LIST_EXACT_COUNT = 2
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    folder = artifacts / "fit"
    folder.mkdir(exist_ok=True)
    page = signed_in("admin", language, *SIZES[size_name])

    response = page.goto("/customers/")

    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    summary = page.locator(".card-header [aria-live=polite]").inner_text()
    assert re.search(r"^about \d+ customers" if language == "en" else r"^约 \d+ 个客户", summary.strip()), (
        summary
    )
    problems = _problems_on(page, "customers-admin", "main a.btn-primary")
    page.screenshot(path=str(folder / f"customers-admin-about-{language}-{size_name}.png"), full_page=True)
    assert not problems, "\n".join(problems)

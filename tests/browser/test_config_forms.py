"""Admins fill the configuration forms in a real browser: priority weights as named fields that
save and come back, and out-of-range values refused beside their field (weights, KPI targets)."""

import pytest
from playwright.sync_api import expect

from metrics.models import KpiTarget
from public_pool.models import PriorityWeights
from tests.factories import PoolFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_priority_weights_save_as_fields_and_come_back(signed_in, artifacts, admin_user):
    pool = PoolFactory(name="East leads")
    page = signed_in("boss", "en")
    page.goto(f"/pool/manage/pools/{pool.pk}/weights/")

    page.get_by_label("B – important").fill("40")
    page.get_by_label("Referral").fill("95")
    page.locator("#id_industry_weight").fill("35")
    page.get_by_role("button", name="Save weights").click()

    expect(page.locator("#messages")).to_contain_text("Weights saved")
    weights = PriorityWeights.objects.get(pool=pool)
    assert (weights.level_scores, weights.source_scores, weights.industry_weight) == (
        {"B": 40}, {"referral": 95}, 35
    )  # fmt: skip
    page.reload()
    expect(page.get_by_label("B – important")).to_have_value("40")
    expect(page.get_by_label("A – key account")).to_have_value("100")  # still the default
    expect(page.get_by_label("Referral")).to_have_value("95")

    page.get_by_label("C – normal").fill("101")
    page.get_by_role("button", name="Save weights").click()
    expect(page.locator("#id_level_scores__C_errors")).to_contain_text(
        "Ensure this value is less than or equal to 100."
    )
    expect(page.get_by_label("C – normal")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(artifacts / "priority-weights-refused.png"), full_page=True)
    weights.refresh_from_db()
    assert weights.level_scores == {"B": 40}


def test_a_negative_kpi_target_is_refused_beside_its_field(signed_in, artifacts, admin_user):
    page = signed_in("boss", "zh-hans", 390, 844)
    page.goto("/metrics/settings/targets/?scope=everyone")
    row = page.locator("tr", has=page.get_by_text("sales", exact=True))
    row.locator("input[type=number]").fill("-3")
    page.get_by_role("button", name="保存目标").click()

    expect(row.locator(".invalid-feedback")).to_contain_text("目标必须是大于 0 的数字")
    expect(row.locator(".input-group-text")).to_have_text("¥")
    page.screenshot(path=str(artifacts / "kpi-target-refused-zh-hans-390.png"), full_page=True)
    assert not KpiTarget.objects.exists()

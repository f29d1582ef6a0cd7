"""An address with an out-of-range date or quarter shows the styled, translated 400 page (not a
500), fitting a phone and a laptop. Screenshots under ``test-artifacts/bad-request/``."""

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "en": "This address asks for something that cannot be shown",
    "zh-hans": "此链接请求的内容无法显示",
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 900)], ids=["phone", "laptop"])
def test_an_out_of_range_quarter_shows_the_400_page(signed_in, artifacts, language, width, height):
    UserFactory(username="boss", admin=True)
    page = signed_in("boss", language, width=width, height=height)

    response = page.goto("/metrics/scorecard/?quarter=9999-Q4")

    assert response is not None
    assert response.status == 400
    assert page.locator("h1").inner_text() == EXPECTED[language]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_role(
        "link", name={"en": "Go to the home page", "zh-hans": "返回首页"}[language]
    ).is_visible()
    folder = artifacts / "bad-request"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"400-{language}-{width}x{height}.png"), full_page=True)

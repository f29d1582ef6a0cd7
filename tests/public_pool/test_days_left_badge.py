"""``{% days_left_badge %}``: the tone and the words of a customer's deadline, in both languages."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

BADGE = Template("{% load pool_tags %}{% days_left_badge customer %}")


def _badge(due_in: timedelta | None, *, owner_id: int | None = 7) -> str:
    due = None if due_in is None else timezone.now() + due_in
    return BADGE.render(Context({"customer": SimpleNamespace(recycle_due_at=due, owner_id=owner_id)}))


@pytest.mark.parametrize(
    ("due_in", "css", "english", "chinese", "days"),
    [
        (timedelta(hours=-1), "text-bg-danger", "Overdue", "已逾期", 0),
        (timedelta(hours=5), "text-bg-danger", "Due today", "今天到期", 0),
        (timedelta(days=1, hours=1), "text-bg-danger", "1 day left", "剩余 1 天", 1),
        (timedelta(days=3, hours=1), "text-bg-danger", "3 days left", "剩余 3 天", 3),
        (timedelta(days=5, hours=1), "text-bg-warning", "5 days left", "剩余 5 天", 5),
        (timedelta(days=12, hours=1), "text-bg-light border", "12 days left", "剩余 12 天", 12),
    ],
)
def test_the_badge_says_how_close_the_deadline_is(due_in, css, english, chinese, days):
    due = timezone.localtime(timezone.now() + due_in).strftime("%Y-%m-%d %H:%M")
    with translation.override("en"):
        assert _badge(due_in) == (
            f'<span class="badge {css}" title="Recycled on {due}" data-days-left="{days}">{english}</span>'
        )
    with translation.override("zh-hans"):
        assert f">{chinese}</span>" in _badge(due_in)


def test_no_badge_without_a_deadline_or_an_owner():
    assert _badge(None) == ""
    assert _badge(timedelta(days=2), owner_id=None) == ""

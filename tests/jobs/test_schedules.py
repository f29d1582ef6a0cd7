"""Schedules in words, in English and Chinese, for crontab and interval schedules."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from jobs import schedules


def crontab(minute="*", hour="*", day_of_month="*", month_of_year="*", day_of_week="*"):
    return CrontabSchedule(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


CRONTABS = [
    (crontab(minute="*/15"), "every 15 minutes", "每 15 分钟"),
    (crontab(minute="*/1"), "every minute", "每分钟"),
    (crontab(minute="30", hour="0"), "daily at 00:30", "每天 00:30"),
    (crontab(minute="10", hour="8"), "daily at 08:10", "每天 08:10"),
    (crontab(minute="0", hour="8", day_of_week="1"), "weekly on Monday at 08:00", "每周星期一 08:00"),
    (crontab(minute="0", hour="8", day_of_week="0"), "weekly on Sunday at 08:00", "每周星期日 08:00"),
    (crontab(minute="0", hour="8", day_of_week="mon,thu"), "weekly on Monday, Thursday at 08:00",
     "每周星期一、星期四 08:00"),
    (crontab(minute="0", hour="9", day_of_week="1-5"), "on weekdays at 09:00", "工作日 09:00"),
    (crontab(minute="5"), "every hour at 05 minutes past", "每小时第 05 分钟"),
    (crontab(minute="0", hour="3", day_of_month="1"), "monthly on day 1 at 03:00", "每月 1 日 03:00"),
    (crontab(minute="0", hour="*/2"), "custom schedule: 0 */2 * * *", "自定义时间：0 */2 * * *"),
]  # fmt: skip


@pytest.mark.parametrize(("cron", "english", "chinese"), CRONTABS)
def test_crontabs_read_as_sentences_in_both_languages(cron, english, chinese):
    with translation.override("en"):
        assert schedules.describe_crontab(cron) == english
    with translation.override("zh-hans"):
        assert schedules.describe_crontab(cron) == chinese


@pytest.mark.parametrize(
    ("every", "period", "english", "chinese"),
    [
        (1, "days", "every day", "每天"),
        (2, "hours", "every 2 hours", "每 2 小时"),
        (15, "minutes", "every 15 minutes", "每 15 分钟"),
        (1, "minutes", "every minute", "每分钟"),
        (30, "seconds", "every 30 seconds", "每 30 秒"),
    ],
)
def test_intervals_read_as_sentences_in_both_languages(every, period, english, chinese):
    interval = IntervalSchedule(every=every, period=period)
    with translation.override("en"):
        assert schedules.describe_interval(interval) == english
    with translation.override("zh-hans"):
        assert schedules.describe_interval(interval) == chinese


def test_next_run_of_a_daily_crontab_is_within_a_day_and_none_when_disabled(db):
    task = PeriodicTask.objects.create(
        name="t",
        task="x",
        crontab=CrontabSchedule.objects.create(minute="30", hour="0", timezone="Asia/Shanghai"),
    )
    now = timezone.now()
    upcoming = schedules.next_run(task, now=now)
    assert upcoming is not None
    assert now < upcoming <= now + timedelta(days=1)
    local = timezone.localtime(upcoming, task.crontab.timezone)
    assert (local.hour, local.minute) == (0, 30)
    task.enabled = False
    assert schedules.next_run(task, now=now) is None


def test_next_run_of_an_interval_follows_the_last_run(db):
    task = PeriodicTask.objects.create(
        name="t", task="x", interval=IntervalSchedule.objects.create(every=15, period="minutes")
    )
    now = timezone.now()
    task.last_run_at = now - timedelta(minutes=5)
    assert schedules.next_run(task, now=now) == now + timedelta(minutes=10)

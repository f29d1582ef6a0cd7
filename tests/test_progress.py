"""Progress of long commands: plain lines when stdout is not a terminal, a bar with the rate and
the time left when it is (a real pseudo-terminal, python's pty module)."""

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from crm_site.progress import Progress
from tests.celery_workers import database_url
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pool  # noqa: F401 - pool: a fixture

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^(?P<verb>[a-z ]+) (?P<done>[\d,]+) of (?P<total>[\d,]+) \((?P<pct>\d+) %\), [\d,.]+/s, (ETA \S+ s|done in \S+ s)$"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_show_count_percentage_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, verb="recycled", total=25_000, interval=5, clock=clock)
    clock.now += 4
    progress.advance(5_000)  # the first line comes at once
    clock.now += 1
    progress.advance(1_000)  # within the interval: no line
    clock.now += 15
    progress.advance(19_000)
    progress.finish()
    assert out.getvalue().splitlines() == [
        "recycled 5,000 of 25,000 (20 %), 1,250/s, ETA 16 s",
        "recycled 25,000 of 25,000 (100 %), 1,250/s, ETA 0 s",
        "recycled 25,000 of 25,000 (100 %), 1,250/s, done in 20 s",
    ]


def test_the_bar_redraws_one_line_on_a_terminal():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, verb="warmed pages", total=4, tty=True, clock=clock)
    clock.now += 2
    progress.advance()
    clock.now += 2
    progress.advance()
    progress.finish()
    frames = out.getvalue().split("\r")[1:]
    assert frames[0] == "warmed pages [########......................]  1/4  25 %  0.5/s  ETA 6 s\x1b[K"
    assert frames[-1] == "warmed pages [###############...............]  2/4  50 %  0.5/s  in 4 s\x1b[K\n"


@pytest.mark.django_db
def test_recycle_pool_prints_plain_progress_lines(settings, team, pool):  # noqa: F811
    settings.PROGRESS_INTERVAL_SECONDS = 0  # a line per batch
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    for _ in range(5):
        owned(rep, pool, claimed_days_ago=20)
    out = io.StringIO()
    call_command("recycle_pool", batch_size=2, stdout=out)
    lines = out.getvalue().splitlines()
    progress = [LINE.match(line) for line in lines[:-1]]
    assert all(progress), lines
    assert [(m["done"], m["total"], m["pct"]) for m in progress] == [
        ("2", "5", "40"), ("4", "5", "80"), ("5", "5", "100"), ("5", "5", "100")
    ]  # fmt: skip
    assert progress[-1].group(0).endswith(" s")
    assert "done in" in progress[-1].group(0)
    assert lines[-1].startswith("recycled 5 customers as of")


@pytest.mark.django_db
def test_warm_dashboards_and_rollup_print_plain_progress_lines(settings, team):
    settings.PROGRESS_INTERVAL_SECONDS = 0
    out = io.StringIO()
    call_command("warm_dashboards", stdout=out)
    lines = out.getvalue().splitlines()
    pages = 3 * len(settings.LANGUAGES) * 2  # last week, month, quarter; the company and one team
    assert [LINE.match(line)["done"] for line in lines[:-1]] == [str(n) for n in range(1, pages + 1)] + [
        str(pages)
    ]
    assert lines[-1].startswith(f"{pages} dashboard pages warmed in")

    out = io.StringIO()
    call_command("rollup_metrics", since="2026-01-01", stdout=out)
    matches = [LINE.match(line) for line in out.getvalue().splitlines()[:-1]]
    assert all(matches)
    assert {m["verb"] for m in matches} == {"rolled up days"}
    assert matches[-1]["done"] == matches[-1]["total"]
    assert len(matches) >= 3  # a chunk of 92 days at a time, and the closing line


def test_a_terminal_shows_the_bar_with_rate_and_eta(transactional_db):
    env = os.environ | {"DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "crm_site.settings_test"}
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rollup_metrics", "--since", "2025-06-01"],
        cwd=ROOT, env=env, stdin=child, stdout=child, stderr=subprocess.PIPE,
    )  # fmt: skip
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal (EIO)
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode() if process.stderr else ""
    text = output.decode()
    frames = [frame for frame in text.split("\r") if frame.startswith("rolled up days [")]
    assert len(frames) >= 2, text
    assert re.search(r"\[#*\.*\]  [\d,]+/[\d,]+  \d+ %  [\d,.]+/s  ETA \S+ s", frames[0]), frames[0]
    assert re.search(r"\[#{30}\]  ([\d,]+)/\1  100 %  [\d,.]+/s  in \S+ s", text), text
    assert "roll-up rows for 2025-06-01 through yesterday" in text

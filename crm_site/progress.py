"""Progress of long management commands on a terminal (``seed_demo``, ``recycle_pool``,
``rollup_metrics --since``, ``warm_dashboards``).

On a TTY: one line redrawn in place (at most ten times a second), a bar with the count, the
rate and the time left::

    recycled [##########..............................]  5,000/25,000  20 %  1,234/s  ETA 16 s

Otherwise (a log file, cron, CI): a plain line at most every ``PROGRESS_INTERVAL_SECONDS``
(setting, default 5 s), and always one at the end::

    recycled 5,000 of 25,000 (20 %), 1,234/s, ETA 16 s
    recycled 25,000 of 25,000 (100 %), 1,250/s, done in 20 s

Written here rather than taken from tqdm, which is not a dependency. Commands speak English
(their other output does too), so these lines are not translated. The total may be an
estimate (``add_total`` raises it as work is discovered); the percentage never passes 100.
"""

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import OutputWrapper

BAR_WIDTH = 30
TTY_INTERVAL = 0.1


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _rate(per_second: float) -> str:
    return f"{per_second:,.1f}/s" if per_second < 10 else f"{per_second:,.0f}/s"


class Progress:
    """Counts work done of a total and shows it on ``stream`` (a TTY bar or plain lines)."""

    def __init__(
        self,
        stream: TextIO | OutputWrapper | None = None,
        *,
        verb: str,
        total: int = 0,
        tty: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verb = verb
        self.total = total
        self.done = 0
        isatty = getattr(self.stream, "isatty", None)
        self.tty = tty if tty is not None else bool(isatty and isatty())
        self.interval = (
            TTY_INTERVAL
            if self.tty
            else (interval if interval is not None else settings.PROGRESS_INTERVAL_SECONDS)
        )
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None
        self.finished = False

    # --- counting ---------------------------------------------------------------------------

    def add_total(self, count: int) -> None:
        self.total += count

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if self.shown_at is None or now - self.shown_at >= self.interval:
            self._show(now)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.total or self.done:  # nothing to do (nothing due, no customers asked for): no line
            self._show(self.clock(), final=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()

    # --- showing ----------------------------------------------------------------------------

    def _figures(self, now: float) -> tuple[int, float, float | None]:
        total = max(self.total, self.done)
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (total - self.done) / rate if rate > 0 else None
        return total, rate, eta

    def line(self, now: float, *, final: bool = False) -> str:
        """The plain line (non-TTY)."""
        total, rate, eta = self._figures(now)
        percent = 100 * self.done // total if total else 100
        tail = (
            f"done in {_duration(now - self.started)}"
            if final
            else f"ETA {_duration(eta) if eta is not None else '?'}"
        )
        return f"{self.verb} {self.done:,} of {total:,} ({percent} %), {_rate(rate)}, {tail}"

    def bar(self, now: float, *, final: bool = False) -> str:
        """The redrawn line (TTY)."""
        total, rate, eta = self._figures(now)
        fraction = self.done / total if total else 1.0
        filled = round(BAR_WIDTH * fraction)
        tail = (
            f"in {_duration(now - self.started)}"
            if final
            else f"ETA {_duration(eta) if eta is not None else '?'}"
        )
        return (
            f"{self.verb} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}]  {self.done:,}/{total:,}  "
            f"{int(100 * fraction)} %  {_rate(rate)}  {tail}"
        )

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()

    def _show(self, now: float, *, final: bool = False) -> None:
        self.shown_at = now
        if self.tty:
            # \r back to the start, \x1b[K clears what a longer previous line left.
            self._write("\r" + self.bar(now, final=final) + "\x1b[K" + ("\n" if final else ""))
        else:
            self._write(self.line(now, final=final) + "\n")

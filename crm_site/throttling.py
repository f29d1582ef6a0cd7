"""DRF throttles: request counters per fixed window, rates read from the settings on every request.

``DEFAULT_THROTTLE_RATES`` ("1200/min") allows that many requests per client in each window of
the period (a calendar minute, hour or day, counted from the epoch); the next one answers 429
``throttled`` with ``Retry-After`` set to the seconds left in the window. A client can thus
send up to twice the rate across a window boundary, never more.

Why not DRF's ``SimpleRateThrottle``: it keeps every request's time of the last period in one
cache entry, reads and unpickles that list and pickles and writes it back on every request
(up to 1,200 floats per signed-in user at the default rate): on the claim path that was the
largest cost after authentication (issue 12). A counter is one atomic increment. With Redis
(the deployed cache) the increment and its expiry go in one round trip; with any other cache
(the in-process cache of a development site, the tests') Django's ``add`` and ``incr``.

DRF's classes also copy ``DEFAULT_THROTTLE_RATES`` once, at import; these read it when asked,
so ``override_settings`` (tests) and the settings module stay the single source.
"""

import time
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # rest_framework.views imports the throttles through the settings
    from rest_framework.views import APIView

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(scope: str | None) -> str | None:
    rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
    return rates.get(scope) if scope else None


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1200/min"`` → (1200, 60): DRF's notation, the period's first letter counts."""
    number, period = rate.split("/")
    return int(number), _PERIODS[period[0]]


def count_request(key: str, seconds: int) -> int:
    """Add one to the counter ``key`` (created at 1, kept ``seconds``) and answer its new value."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        # INCR creates the key at 1; EXPIRE in the same round trip, so that no counter outlives
        # its window for long (the key names the window; renewing the expiry is harmless).
        full_key = cache.make_and_validate_key(key)
        client = cast("Any", cache)._cache.get_client(full_key, write=True)  # Django's Redis client (private)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, seconds)
        count, _expiry_set = pipeline.execute()
        return int(count)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window's first request
        if cache.add(key, 1, seconds):
            return 1
        return int(cache.incr(key))


class CountingThrottle(BaseThrottle):
    """At most ``rate`` requests per client (``ident``) in each fixed window; see the module."""

    scope: str | None = None
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def ident(self, request: Request) -> str | None:
        """Whom to count (None: this throttle does not apply to the request)."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: "APIView") -> bool:
        rate = _rate(self.scope)
        if rate is None:
            return True
        ident = self.ident(request)
        if ident is None:
            return True
        limit, period = parse_rate(rate)
        now = self.timer()
        window = int(now // period)
        count = count_request(f"throttle:{self.scope}:{ident}:{period}:{window}", period)
        if count <= limit:
            return True
        self.wait_seconds = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonRateThrottle(CountingThrottle):
    """Anonymous requests (the token endpoint, the schema), counted per client address."""

    scope = "anon"

    def ident(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None  # only anonymous requests
        return str(self.get_ident(request))


class UserRateThrottle(CountingThrottle):
    """Signed-in requests, counted per user (anonymous ones per address, as DRF's)."""

    scope = "user"

    def ident(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return str(self.get_ident(request))

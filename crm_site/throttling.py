"""DRF throttles whose rates are read from the settings on every request.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` once, at import; these read it when asked,
so ``override_settings`` (tests) and the settings module stay the single source.
"""

from typing import cast

from rest_framework import throttling
from rest_framework.settings import api_settings


def _rate(scope: str | None) -> str | None:
    rates = cast("dict[str, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
    return rates.get(scope) if scope else None


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Anonymous requests (the token endpoint, the schema), counted per client address."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserRateThrottle(throttling.UserRateThrottle):
    """Signed-in requests, counted per user."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)

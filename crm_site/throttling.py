"""DRF throttles whose rates are read from the settings on every request.

DRF's own classes copy ``DEFAULT_THROTTLE_RATES`` once, at import; these read it when asked,
so ``override_settings`` (tests) and the settings module stay the single source.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Anonymous requests (the token endpoint, the schema), counted per client address."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(throttling.UserRateThrottle):
    """Signed-in requests, counted per user."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

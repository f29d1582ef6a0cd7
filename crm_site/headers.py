"""The Content-Security-Policy middleware: django-csp's, with the site's policy built once.

django-csp builds the header from ``CONTENT_SECURITY_POLICY`` for every answer (a dataclass
``asdict`` of the parts, then every directive joined), although without a nonce or a view's
own policy (``csp_update``/``csp_replace``/``csp_exempt``-style decorators set attributes on
the response) the result is the same each time: on an API request that was the largest cost
of all the middleware (issue 12). This subclass keeps the site's header and report-only header
per settings (built again when ``CONTENT_SECURITY_POLICY*`` change, as tests do) and answers
every other case, a nonce or a per-view policy, with django-csp's own code.
"""

from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What a view's decorator puts on its response to change or drop the policy for that answer.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_DEBUG_EXEMPT_CODES = (404, 500)


@cache
def site_policy(report_only: bool) -> str:
    """The header django-csp builds when nothing but the settings applies ("" for none)."""
    return build_policy(report_only=report_only)


@receiver(setting_changed)
def _forget_the_policy(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policy.cache_clear()


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's ``CSPMiddleware`` with :func:`site_policy` for the common case."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT_CODES and settings.DEBUG:
            return response
        for header, exempt, setting, report_only in (
            (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            value = site_policy(report_only)
            if not value or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response

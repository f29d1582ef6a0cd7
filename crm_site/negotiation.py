"""DRF's content negotiation with the everyday case answered before any parsing (issue 12).

Nearly every API request carries no ``Accept`` header, ``*/*`` or ``application/json``; DRF
parses that header and every renderer's media type into ``_MediaType`` objects and orders them by
precedence on each request to arrive at the first renderer. For exactly those headers, with no
``?format=`` and no format suffix, the answer is known: the first renderer with its own media
type (``tests/test_negotiation.py`` checks it is what DRF answers). Anything else goes through
DRF's negotiation unchanged.
"""

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, Any]:
        first = next(iter(renderers), None)  # DRF passes the view's list of renderers
        if first is not None and format_suffix is None:
            accept = request.META.get("HTTP_ACCEPT", "*/*")
            override = self.settings.URL_FORMAT_OVERRIDE
            if accept in ("*/*", first.media_type) and not (override and override in request.query_params):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

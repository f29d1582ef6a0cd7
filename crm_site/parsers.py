"""Request parsers for DRF (a module of its own: DRF imports it while its views load)."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers


class SizeLimitedJSONParser(parsers.JSONParser):
    """DRF reads a JSON body from the stream, past Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (only ``request.body`` and form parsing check it): refuse a longer body before reading it."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestDataTooBig("JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE")
        return super().parse(stream, media_type, parser_context)

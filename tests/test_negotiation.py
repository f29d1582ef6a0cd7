"""The API's content negotiation (``crm_site.negotiation``) answers what DRF's does."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from crm_site.negotiation import ContentNegotiation

RENDERER_LISTS = [
    [JSONRenderer(), BrowsableAPIRenderer()],
    [BrowsableAPIRenderer(), JSONRenderer()],
    [JSONRenderer()],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "application/json; indent=4",
    "text/html, application/json;q=0.9, */*;q=0.8",
    "application/*",
]


@pytest.mark.parametrize("renderers", RENDERER_LISTS)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    ("query", "suffix"), [("", None), ("?format=json", None), ("?format=api", None), ("", "json")]
)
def test_the_shortcut_answers_what_drf_answers(renderers, accept, query, suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/me/{query}", **headers))

    def answer(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
        except (NotAcceptable, Http404) as refusal:  # the same refusal is the same answer
            return type(refusal).__name__
        return type(renderer).__name__, media_type

    assert answer(ContentNegotiation()) == answer(DefaultContentNegotiation())


def test_the_api_uses_it():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation

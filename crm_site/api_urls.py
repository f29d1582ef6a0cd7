"""The ``/api/`` root (namespace ``api``): sign-in, the caller, each app's endpoints, the schema.

Each app keeps its routes in ``<app>/api_urls.py`` and is included here. ``/api/customers/``
is served by whatever view ``customers.api_urls.build_urlpatterns`` is given: once
``public_pool/api/claims.py`` subclasses ``CustomerListCreateApi`` to create into pools, route it with
``include(customers_api_urls.build_urlpatterns(list_create_view=pool_api.<Subclass>))`` instead
of ``include("customers.api_urls")``, so that ``customers`` never imports ``public_pool``.

The schema and the Swagger UI work offline: Swagger's files come from
``drf-spectacular-sidecar`` (``SWAGGER_UI_DIST = "SIDECAR"``) and are served as static files.
ReDoc is not offered because drf-spectacular's ReDoc page loads Google Fonts. The Swagger page
is the "split" view (its start-up script at ``/api/docs/?script=``) with the inline style moved
to ``static/css/swagger.css``, so it passes the Content-Security-Policy.
"""

from typing import Any

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import api as customers_api
from customers import api_urls as customers_api_urls
from public_pool.api import claims as pool_claims_api


@extend_schema(exclude=True)
class NotFoundApi(APIView):
    """Every path under ``/api/`` that no route matches (an unknown path, a malformed id such as
    ``/api/customers/abc/``): the JSON 404 ``not_found`` of API.md rather than Django's HTML
    page. Routed last in ``crm_site.api_urls``; answers the same to anyone, signed in or not."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = _not_found


app_name = "api"

urlpatterns = [
    path("auth/token/", customers_api.ObtainTokenApi.as_view(), name="token"),
    path("me/", customers_api.MeApi.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path(
        "",
        include(
            customers_api_urls.build_urlpatterns(list_create_view=pool_claims_api.PooledCustomerListCreateApi)
        ),
    ),
    path("", include("public_pool.api_urls")),
    path("", include("metrics.api_urls")),
    # Last: whatever no route above matched answers the JSON 404 ``not_found``, never HTML.
    re_path(r"^", NotFoundApi.as_view(), name="not-found"),
]

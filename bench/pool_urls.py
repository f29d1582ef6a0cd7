"""The API alone (``/api/...``), for :mod:`bench.pool_settings`."""

from django.urls import include, path

urlpatterns = [path("api/", include("crm_site.api_urls"))]

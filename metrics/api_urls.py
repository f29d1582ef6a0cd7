"""The metrics app's ``/api/metrics/...`` routes, included by ``crm_site.api_urls`` (namespace ``api``)."""

from django.urls import path

from metrics import api

urlpatterns = [
    path("metrics/kpis/", api.KpisApi.as_view(), name="metrics-kpis"),
]

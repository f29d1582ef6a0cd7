"""``/api/imports/...`` (included by ``public_pool.api_urls`` inside the ``api`` namespace)."""

from django.urls import path

from public_pool import import_api

urlpatterns = [
    path("", import_api.ImportCustomersApi.as_view(), name="import-list"),
    path("<int:batch_id>/report/", import_api.ImportReportApi.as_view(), name="import-report"),
]

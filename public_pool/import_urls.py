"""Admin pages of lead imports, mounted at ``/pool/imports/`` (namespace ``pool_imports``)."""

from django.urls import path

from public_pool import import_views

app_name = "pool_imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("<int:batch_id>/", import_views.import_detail, name="detail"),
    path("<int:batch_id>/report.csv", import_views.import_report, name="report"),
]

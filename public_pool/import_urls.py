"""Admin pages of lead imports, mounted at ``/pool/imports/`` (namespace ``pool_imports``)."""

from django.urls import path

from public_pool import import_views

app_name = "pool_imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("template-<str:language>.<str:file_format>", import_views.import_template, name="template"),
    path("<int:batch_id>/", import_views.import_detail, name="detail"),
    path("<int:batch_id>/mapping/", import_views.import_mapping, name="mapping"),
    path("<int:batch_id>/progress/", import_views.import_progress, name="progress"),
    path("<int:batch_id>/resume/", import_views.import_resume, name="resume"),
    path("<int:batch_id>/report.csv", import_views.import_report, name="report"),
]

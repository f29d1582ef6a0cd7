"""The audit log pages, mounted at ``/audit/`` (namespace ``audit``)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("audit-log.csv", views.audit_csv, name="csv"),
]

"""Scorecard pages (namespace ``scorecard``), mounted at ``/metrics/``: the admins' settings
under ``settings/`` and everyone's scorecard under ``scorecard/``."""

from django.urls import path

from metrics import scorecard_views

app_name = "scorecard"

urlpatterns = [
    path("settings/targets/", scorecard_views.targets, name="targets"),
    path("settings/scorecard/", scorecard_views.weights, name="weights"),
    path("scorecard/", scorecard_views.scorecard_page, name="page"),
    path("scorecard/export.csv", scorecard_views.scorecard_csv, name="export"),
]

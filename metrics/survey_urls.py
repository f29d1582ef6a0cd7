"""Survey pages (namespace ``surveys``), mounted at the site root: the public answer page at
``/s/<token>/`` (no login) and the customer page's survey actions under ``/metrics/surveys/``."""

from django.urls import path

from metrics import survey_views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", survey_views.answer, name="answer"),
    path("metrics/surveys/customers/<int:customer_id>/send/", survey_views.send, name="send"),
    path("metrics/surveys/customers/<int:customer_id>/phone/", survey_views.phone_answer, name="phone"),
]

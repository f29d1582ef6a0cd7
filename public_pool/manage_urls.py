"""Manager and admin pages of the public pool, mounted at ``/pool/manage/`` (namespace ``pool_manage``)."""

from django.urls import path

from public_pool.manage_views import rules, setup, transfers
from public_pool.manage_views import team as views

app_name = "pool_manage"

urlpatterns = [
    path("", views.index, name="index"),
    path("pools/<int:pool_id>/assign/", views.assign, name="assign"),
    path("pools/<int:pool_id>/distribute/", views.distribute, name="distribute"),
    path("pools/<int:pool_id>/events/", views.pool_events, name="pool_events"),
    path("pools/<int:pool_id>/rules/", rules.rules, name="rules"),
    path("pools/<int:pool_id>/rules/new/", rules.rule_create, name="rule_create"),
    path("pools/<int:pool_id>/rules/preview/", rules.rule_preview, name="rule_preview"),
    path("rules/<int:rule_id>/", rules.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/toggle/", rules.rule_toggle, name="rule_toggle"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("customers/<int:customer_id>/transfer/", transfers.transfer_customer, name="transfer_customer"),
    path("customers/change-owner/", transfers.bulk_transfer, name="bulk_transfer"),
    path("customers/change-owner/reps/", transfers.bulk_owner_choices, name="bulk_owner_choices"),
    path("extensions/", views.extensions, name="extensions"),
    path("extensions/<int:request_id>/decide/", views.extension_decide, name="extension_decide"),
    path("events/", views.events, name="events"),
    path("events.csv", views.events_csv, name="events_csv"),
    # Admin configuration
    path("pools/", setup.pools, name="pools"),
    path("pools/new/", setup.pool_create, name="pool_create"),
    path("pools/<int:pool_id>/", setup.pool_edit, name="pool_edit"),
    path("pools/<int:pool_id>/weights/", setup.weights, name="weights"),
    path("reasons/", setup.reasons, name="reasons"),
    path("reasons/new/", setup.reason_edit, name="reason_create"),
    path("reasons/<int:reason_id>/", setup.reason_edit, name="reason_edit"),
    path("schedules/", setup.schedules, name="schedules"),
    path("schedules/<int:task_id>/", setup.schedule_edit, name="schedule_edit"),
    path("schedules/<int:task_id>/toggle/", setup.schedule_toggle, name="schedule_toggle"),
    path("schedules/<int:task_id>/run/", setup.schedule_run, name="schedule_run"),
    path("schedules/<int:task_id>/runs/", setup.schedule_runs, name="schedule_runs"),
]

"""The rep's (and everyone's) pool pages, mounted at ``/pool/`` (namespace ``public_pool``).
Managers' and admins' pages live under ``/pool/manage/`` (``manage_urls``)."""

from django.urls import path

from public_pool import views

app_name = "public_pool"

urlpatterns = [
    path("", views.pool_list, name="list"),
    path("mine/", views.my_customers, name="mine"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.mark_read, name="mark_read"),
    path("returned/", views.returned, name="returned"),
    path("<int:pool_id>/", views.pool_detail, name="detail"),
    path("<int:pool_id>/claim-next/", views.claim_next, name="claim_next"),
    path("customers/<int:customer_id>/claim/", views.claim, name="claim"),
    path("customers/<int:customer_id>/release/", views.release, name="release"),
    path("customers/<int:customer_id>/extension/", views.request_extension, name="request_extension"),
    path("customers/<int:customer_id>/events/", views.customer_events, name="customer_events"),
]

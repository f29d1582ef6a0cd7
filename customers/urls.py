"""Customer pages. Names are fixed (see the brief's URL layout): other apps link to them."""

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path

from customers import services, views

app_name = "customers"


def build_urlpatterns(*, create_service: Callable[..., Any] = services.create_customer) -> list[URLPattern]:
    """The pages; ``create_service`` creates from the new-customer page. ``crm_site.urls`` passes
    ``public_pool.services.create_owned_customer`` (which also logs the ``create`` event), so
    that ``customers`` never imports ``public_pool``."""
    return [
        path("", views.customer_list, name="list"),
        path("export.csv", views.customer_export, name="export"),
        path("new/", views.customer_create, {"create_service": create_service}, name="create"),
        path("pipeline/", views.pipeline, name="pipeline"),
        path("<int:pk>/", views.customer_detail, name="detail"),
        path("<int:pk>/edit/", views.customer_edit, name="edit"),
        path("<int:pk>/follow-ups/", views.log_followup, name="log_followup"),
        path("<int:pk>/contacts/", views.add_contact, name="add_contact"),
        path("<int:pk>/deals/", views.add_deal, name="add_deal"),
        path("<int:pk>/deals/<int:deal_pk>/stage/", views.move_deal, name="move_deal"),
    ]


urlpatterns = build_urlpatterns()

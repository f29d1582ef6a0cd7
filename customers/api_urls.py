"""``/api/customers/...`` routes, included by ``crm_site.api_urls`` under the ``api`` namespace.

``build_urlpatterns`` takes the view that serves ``/api/customers/`` so that ``crm_site`` can
route it to ``public_pool``'s subclass of ``CustomerListCreateApi`` (which adds creating into a
pool) without ``customers`` importing ``public_pool``.
"""

from django.urls import URLPattern, path

from customers import api


def build_urlpatterns(
    *, list_create_view: type[api.CustomerListCreateApi] = api.CustomerListCreateApi
) -> list[URLPattern]:
    return [
        path("customers/", list_create_view.as_view(), name="customer-list"),
        path("customers/<int:customer_id>/", api.CustomerDetailApi.as_view(), name="customer-detail"),
        path(
            "customers/<int:customer_id>/follow-ups/",
            api.CustomerFollowUpsApi.as_view(),
            name="customer-followups",
        ),
    ]


urlpatterns = build_urlpatterns()

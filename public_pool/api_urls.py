"""The public pool's ``/api/...`` routes, included by ``crm_site.api_urls`` under the ``api`` namespace.

``/api/customers/`` itself is routed by ``customers.api_urls.build_urlpatterns`` with
``public_pool.api.PooledCustomerListCreateApi`` (see ``crm_site/api_urls.py``).
"""

from django.urls import include, path

from public_pool import api

urlpatterns = [
    # Ownership commands on one customer.
    path("customers/<int:customer_id>/claim/", api.ClaimCustomerApi.as_view(), name="customer-claim"),
    path("customers/<int:customer_id>/release/", api.ReleaseCustomerApi.as_view(), name="customer-release"),
    path("customers/<int:customer_id>/assign/", api.AssignCustomerApi.as_view(), name="customer-assign"),
    path(
        "customers/<int:customer_id>/transfer/", api.TransferCustomerApi.as_view(), name="customer-transfer"
    ),
    path("customers/<int:customer_id>/move/", api.MoveCustomerApi.as_view(), name="customer-move"),
    path(
        "customers/<int:customer_id>/extension/", api.RequestExtensionApi.as_view(), name="customer-extension"
    ),
    # Pools.
    path("pools/", api.PoolListApi.as_view(), name="pool-list"),
    path("pools/<int:pool_id>/", api.PoolDetailApi.as_view(), name="pool-detail"),
    path("pools/<int:pool_id>/customers/", api.PoolCustomersApi.as_view(), name="pool-customers"),
    path("pools/<int:pool_id>/claim-next/", api.ClaimNextApi.as_view(), name="pool-claim-next"),
    path("pools/<int:pool_id>/assign/", api.BulkAssignApi.as_view(), name="pool-assign"),
    path("pools/<int:pool_id>/distribute/", api.DistributeApi.as_view(), name="pool-distribute"),
    # The log, rules, reasons, extensions, notifications.
    path("pool-events/", api.PoolEventsApi.as_view(), name="pool-event-list"),
    path("recycle-rules/", api.RecycleRuleListCreateApi.as_view(), name="recycle-rule-list"),
    path("recycle-rules/preview/", api.RecycleRulePreviewApi.as_view(), name="recycle-rule-preview"),
    path("recycle-rules/<int:rule_id>/", api.RecycleRuleDetailApi.as_view(), name="recycle-rule-detail"),
    path("release-reasons/", api.ReleaseReasonsApi.as_view(), name="release-reason-list"),
    path("extension-requests/", api.PendingExtensionRequestsApi.as_view(), name="extension-request-list"),
    path(
        "extension-requests/<int:request_id>/decide/",
        api.DecideExtensionApi.as_view(),
        name="extension-request-decide",
    ),
    path("notifications/", api.NotificationsApi.as_view(), name="notification-list"),
    path("notifications/read/", api.MarkNotificationsReadApi.as_view(), name="notifications-read"),
    # Imports (CSV/XLSX into a pool) are added here by their own module.
    path("imports/", include("public_pool.import_api_urls")),
]

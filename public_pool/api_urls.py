"""The public pool's ``/api/...`` routes, included by ``crm_site.api_urls`` under the ``api`` namespace.

``/api/customers/`` itself is routed by ``customers.api_urls.build_urlpatterns`` with
``public_pool.api.claims.PooledCustomerListCreateApi`` (see ``crm_site/api_urls.py``).
"""

from django.urls import path

from public_pool.api import claims, events, imports, notifications, pools, rules

urlpatterns = [
    # Ownership commands on one customer.
    path("customers/<int:customer_id>/claim/", claims.ClaimCustomerApi.as_view(), name="customer-claim"),
    path(
        "customers/<int:customer_id>/release/", claims.ReleaseCustomerApi.as_view(), name="customer-release"
    ),
    path("customers/<int:customer_id>/assign/", claims.AssignCustomerApi.as_view(), name="customer-assign"),
    path(
        "customers/<int:customer_id>/transfer/",
        claims.TransferCustomerApi.as_view(),
        name="customer-transfer",
    ),
    path("customers/<int:customer_id>/move/", claims.MoveCustomerApi.as_view(), name="customer-move"),
    path(
        "customers/<int:customer_id>/extension/",
        notifications.RequestExtensionApi.as_view(),
        name="customer-extension",
    ),
    # Pools.
    path("pools/", pools.PoolListApi.as_view(), name="pool-list"),
    path("pools/<int:pool_id>/", pools.PoolDetailApi.as_view(), name="pool-detail"),
    path("pools/<int:pool_id>/customers/", pools.PoolCustomersApi.as_view(), name="pool-customers"),
    path("pools/<int:pool_id>/claim-next/", claims.ClaimNextApi.as_view(), name="pool-claim-next"),
    path("pools/<int:pool_id>/assign/", claims.BulkAssignApi.as_view(), name="pool-assign"),
    path("pools/<int:pool_id>/distribute/", claims.DistributeApi.as_view(), name="pool-distribute"),
    # The log, rules, reasons, extensions, notifications.
    path("pool-events/", events.PoolEventsApi.as_view(), name="pool-event-list"),
    path("recycle-rules/", rules.RecycleRuleListCreateApi.as_view(), name="recycle-rule-list"),
    path("recycle-rules/preview/", rules.RecycleRulePreviewApi.as_view(), name="recycle-rule-preview"),
    path("recycle-rules/<int:rule_id>/", rules.RecycleRuleDetailApi.as_view(), name="recycle-rule-detail"),
    path("release-reasons/", rules.ReleaseReasonsApi.as_view(), name="release-reason-list"),
    path(
        "extension-requests/",
        notifications.PendingExtensionRequestsApi.as_view(),
        name="extension-request-list",
    ),
    path(
        "extension-requests/<int:request_id>/decide/",
        notifications.DecideExtensionApi.as_view(),
        name="extension-request-decide",
    ),
    path("notifications/", notifications.NotificationsApi.as_view(), name="notification-list"),
    path("notifications/read/", notifications.MarkNotificationsReadApi.as_view(), name="notifications-read"),
    # Imports (CSV/XLSX into a pool).
    path("imports/", imports.ImportCustomersApi.as_view(), name="import-list"),
    path("imports/<int:batch_id>/", imports.ImportDetailApi.as_view(), name="import-detail"),
    path("imports/<int:batch_id>/report/", imports.ImportReportApi.as_view(), name="import-report"),
]

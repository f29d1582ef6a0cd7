from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm_site import views
from crm_site.health import healthz, readyz
from customers import urls as customers_urls
from public_pool import services as pool_services

urlpatterns = [
    # First: Django tries the patterns in order, and the API is what integrations call in bulk.
    path("api/", include("crm_site.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The new-customer page creates through the public pool's service, which logs the event.
    path(
        "customers/",
        include(
            (
                customers_urls.build_urlpatterns(create_service=pool_services.create_owned_customer),
                "customers",
            )
        ),
    ),
    path("audit/", include("audit.urls")),
    path("pool/imports/", include("public_pool.import_urls")),
    path("pool/manage/", include("public_pool.manage_urls")),
    path("pool/", include("public_pool.urls")),
    path("metrics/", include("metrics.urls")),
    path("metrics/", include("metrics.scorecard_urls")),
    path("", include("metrics.survey_urls")),  # /s/<token>/ (public) and /metrics/surveys/...
]

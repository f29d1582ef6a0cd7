from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from audit.labels import register_value_source

        register_value_source("role", role_label)


def role_label(code: str) -> str | None:
    """A role's name for the audit log, which stores the code (``manager``)."""
    from customers.models import Role

    return str(Role(code).label) if code in Role.values else None

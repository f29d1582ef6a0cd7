from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicPoolConfig(AppConfig):
    name = "public_pool"
    verbose_name = _("Public pool")

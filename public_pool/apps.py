from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicPoolConfig(AppConfig):
    name = "public_pool"
    verbose_name = _("Public pool")

    def ready(self) -> None:
        # The pool's step of ``seed_demo`` (recycle rules, home pools, the event log).
        from customers import demo
        from public_pool import demo as pool_demo

        demo.register_step(demo.Step("pool rules", pool_demo.seed_pool_rules), after="pools")
        demo.register_step(demo.Step("pool history", pool_demo.seed_pool_history), after="customers")

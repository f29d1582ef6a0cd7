from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self) -> None:
        # The metrics steps of ``seed_demo``: the daily roll-ups of the seeded history; KPI targets
        # and scorecard weights.
        from customers import demo
        from metrics import demo as metrics_demo

        demo.register_step(demo.Step("metrics roll-ups", metrics_demo.seed_rollups), after="pool history")
        demo.register_step(demo.Step("scorecard", metrics_demo.seed_scorecard), after="metrics roll-ups")

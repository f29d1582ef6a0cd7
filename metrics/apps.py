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

        from audit.labels import register_label_source

        register_label_source(audit_label)


def audit_label(key: str) -> str | None:
    """The audit log's words for the scorecard's keys: ``target:<kpi>`` and ``weight:<kpi>``."""
    from django.utils.translation import gettext

    from metrics import kpis

    kind, sep, code = key.partition(":")
    if not sep or kind not in ("target", "weight"):
        return None
    definition = kpis.load().get(code)
    name = str(definition.label) if definition is not None else code
    if kind == "target":
        return name
    return gettext("Weight of %(kpi)s (%%)") % {"kpi": name}

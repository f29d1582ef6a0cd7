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

        from audit.labels import register_label_source, register_object_source
        from audit.models import AuditArea

        register_label_source(audit_label)
        register_object_source(AuditArea.KPI_TARGET, audit_target_object)
        register_object_source(
            AuditArea.SCORECARD_WEIGHTS, lambda _id, _label: _("Scorecard weights and cap")
        )


def audit_target_object(object_id: str, stored_label: str) -> str | None:
    """``2025-Q1/everyone`` → "2025-Q1 · Everyone" in the reader's language (a team's or a
    person's targets keep the name stored with the entry)."""
    period, _sep, whom = object_id.partition("/")
    if whom != "everyone":
        return None
    return f"{period} · {_('Everyone')}"


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

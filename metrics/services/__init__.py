"""Every write of the metrics app with business meaning, by subdomain: ``rollups`` (the daily
roll-ups), ``churn`` (churn flags), ``tiers`` (value tiers), ``surveys`` (sending surveys,
recording answers), ``scorecard`` (weights, cap and KPI targets). Reads are in
``metrics.selectors``; the KPI functions in ``metrics.kpis``.
"""

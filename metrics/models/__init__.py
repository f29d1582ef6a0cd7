"""Metrics tables: daily roll-ups (``rollups``), KPI targets and scorecard weights
(``scorecard``), survey links (``surveys``) and churn flags and value-tier settings (``churn``)."""

from metrics.models.churn import *  # noqa: F403
from metrics.models.rollups import *  # noqa: F403
from metrics.models.scorecard import *  # noqa: F403
from metrics.models.surveys import *  # noqa: F403

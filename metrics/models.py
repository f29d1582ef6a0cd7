"""KPI roll-ups and targets live here (see KPI.md); nothing is stored yet."""

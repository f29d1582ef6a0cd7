"""See metrics.models."""

__all__: list[str] = []

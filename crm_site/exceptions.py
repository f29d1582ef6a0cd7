"""Domain exceptions: services raise them, the API and the pages turn them into answers."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A business rule said no. ``code`` is machine-readable; ``message`` is for people."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str | Promise, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code


class ConflictError(DomainError):
    """The request clashed with the current state (already claimed, limit reached): HTTP 409."""

    status_code = 409

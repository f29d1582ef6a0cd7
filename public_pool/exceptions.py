"""What the public pool's services raise. ``code`` values are the API contract (API.md).

``ConflictError`` subclasses answer 409, the others their ``status_code``
(``crm_site.api.exception_handler``); pages show ``message``.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm_site.exceptions import ConflictError, DomainError


class NotAllowed(DomainError):
    """The actor's role does not permit this (e.g. a rep assigning, a manager of another team)."""

    code = "permission_denied"
    status_code = 403


class CustomerNotFound(DomainError):
    code = "not_found"
    status_code = 404

    def __init__(self, *, customer_id: int) -> None:
        super().__init__(_("No such customer."))
        self.customer_id = customer_id


class PoolNotFound(DomainError):
    code = "not_found"
    status_code = 404

    def __init__(self, *, pool_id: int) -> None:
        super().__init__(_("No such pool."))
        self.pool_id = pool_id


class AlreadyClaimed(ConflictError):
    """The lead is no longer in the pool: someone else took it first."""

    code = "already_claimed"

    def __init__(self, *, customer_id: int) -> None:
        super().__init__(_("Someone else has already claimed this customer."))
        self.customer_id = customer_id


class LimitReached(ConflictError):
    """The rep holds as many customers from this pool as the pool allows."""

    code = "limit_reached"

    def __init__(self, *, limit: int, held: int, requested: int = 1) -> None:
        super().__init__(
            _("The limit of %(limit)d customers held from this pool is reached (holding %(held)d).")
            % {"limit": limit, "held": held}
        )
        self.limit, self.held, self.requested = limit, held, requested


class DailyLimitReached(ConflictError):
    """The rep has taken as many leads from this pool today as the pool allows."""

    code = "daily_limit_reached"

    def __init__(self, *, limit: int, taken_today: int, requested: int = 1) -> None:
        super().__init__(
            _("The limit of %(limit)d leads per day from this pool is reached (taken today: %(taken)d).")
            % {"limit": limit, "taken": taken_today}
        )
        self.limit, self.taken_today, self.requested = limit, taken_today, requested


class Cooldown(ConflictError):
    """The rep released (or lost) this lead too recently to take it back."""

    code = "cooldown"

    def __init__(self, *, until: datetime) -> None:
        super().__init__(
            _("You gave this customer up recently; you may claim it again after %(until)s.")
            % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")}
        )
        self.until = until


class NotPoolMember(DomainError):
    code = "not_pool_member"
    status_code = 403

    def __init__(self) -> None:
        super().__init__(_("Your team may not use this pool."))


class PoolEmpty(DomainError):
    code = "pool_empty"
    status_code = 404

    def __init__(self) -> None:
        super().__init__(_("There is no lead in this pool that you may claim now."))


class ReasonRequired(DomainError):
    code = "reason_required"
    status_code = 400


class NotOwned(ConflictError):
    """The customer is not (or no longer) owned as the caller expected."""

    code = "not_owned"

    def __init__(self, *, customer_id: int) -> None:
        super().__init__(_("This customer is not owned by a rep (any more)."))
        self.customer_id = customer_id


class PoolRequired(DomainError):
    code = "pool_required"
    status_code = 400

    def __init__(self) -> None:
        super().__init__(_("Choose the pool this customer goes to."))


class NoRecycleDeadline(DomainError):
    code = "no_deadline"
    status_code = 400

    def __init__(self) -> None:
        super().__init__(_("This customer is not due to be recycled, so it needs no extension."))


class ExtensionAlreadyRequested(ConflictError):
    code = "extension_already_requested"

    def __init__(self) -> None:
        super().__init__(_("An extension was already requested for this customer."))


class ExtensionAlreadyDecided(ConflictError):
    code = "extension_decided"

    def __init__(self) -> None:
        super().__init__(_("This extension request has already been decided."))


class CustomerLeftRep(ConflictError):
    """An extension cannot be approved: the customer is no longer the requesting rep's (recycled,
    released or transferred since the request). ``message`` says how and when."""

    code = "customer_left"

    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)


class InvalidInput(DomainError):
    """Shape is fine but values are not: ``fields`` maps field names to messages."""

    code = "invalid"
    status_code = 400

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(_("Some fields are not valid."))
        self.fields = fields


class ImportFileInvalid(DomainError):
    """The file cannot be imported at all; nothing was written. Answers 400 ``invalid``."""

    code = "invalid"

    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)
        self.fields = {"file": [str(message)]}


# --- Team group chats (not domain errors: the chat task raises them, nobody shows them) ------


class TeamChatUnavailable(Exception):
    """The chat could not take the message now (timeout, 5xx, rate limit): retry later."""


class TeamChatRefused(Exception):
    """The chat refused the message for good (bad URL or key, 4xx): retrying will not help."""


class ImportMappingInvalid(DomainError):
    """The column mapping names an unknown field, a field twice, or no company name column."""

    code = "invalid"

    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)
        self.fields = {"mapping": [str(message)]}


class ImportNotResumable(ConflictError):
    """The import is not waiting for a mapping, or is done, or is still running."""

    code = "conflict"

    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)

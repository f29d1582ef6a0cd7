"""What the customer services raise. ``code`` values are the API contract; the API turns them
into ``{"code", "detail"}`` answers (``crm_site.api.exception_handler``) and pages show ``message``."""

from django.utils.translation import gettext_lazy as _

from crm_site.exceptions import DomainError
from customers.models import Customer


class NotAllowed(DomainError):
    code = "permission_denied"
    status_code = 403


class CustomerInvalid(DomainError):
    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(_("Some fields are not valid."))
        self.fields = fields


class DuplicateCustomer(DomainError):
    """Creating a customer that already exists (same normalised company name, phone or e-mail).

    Answers 409 ``duplicate``. ``matches`` are the existing rows (for pages); ``duplicates`` is
    what may be told to anyone: where each one is — ``{"where": "pool", "pool": name,
    "pool_id": id, "customer_id": id, "fields": [...]}`` or ``{"where": "owner", "owner": name,
    "fields": [...]}`` (an owned customer is described by its owner's name only) — and
    ``fields`` maps each matched input field to a message saying where, so the API's error body
    carries it (``crm_site.api.exception_handler``).
    """

    code = "duplicate"
    status_code = 409

    def __init__(self, *, matches: list[Customer]) -> None:
        super().__init__(_("This customer already exists."))
        self.matches = matches
        self.duplicates: list[dict[str, object]] = []
        self.fields: dict[str, str] = {}
        for customer in matches:
            matched = list(getattr(customer, "duplicate_fields", []))
            pool = customer.pool
            if pool is not None:
                entry: dict[str, object] = {
                    "where": "pool",
                    "pool": pool.name,
                    "pool_id": customer.pool_id,
                    "customer_id": customer.pk,
                    "fields": matched,
                }
                message = str(_("Already in the public pool “%(pool)s”.") % {"pool": pool.name})
            else:
                owner = customer.owner
                owner_name = (owner.get_full_name() or owner.username) if owner else ""
                entry = {"where": "owner", "owner": owner_name, "fields": matched}
                message = str(_("Already owned by %(owner)s.") % {"owner": owner_name})
            self.duplicates.append(entry)
            for field in matched:
                self.fields.setdefault(field, message)


class PoolNotSupported(DomainError):
    """``pool`` was given to an endpoint that cannot create into a pool (400, with ``fields.pool``)."""

    code = "pool_not_supported"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Creating a customer into a pool is not supported here. "
                "Leave out “pool” to create a customer you own."
            )
        )
        self.fields = {"pool": [str(self.message)]}

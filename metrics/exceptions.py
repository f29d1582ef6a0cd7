"""What the metrics services raise (surveys, scorecards); ``crm_site.api`` and the pages turn
them into answers."""

from django.utils.translation import gettext_lazy as _

from crm_site.exceptions import ConflictError, DomainError


class SurveyNotAllowed(DomainError):
    code = "permission_denied"
    status_code = 403


class SurveyInvalid(DomainError):
    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(_("Some fields are not valid."))
        self.fields = fields


class SurveyLinkInvalid(DomainError):
    """The token is not one we signed (tampered, truncated) or its invitation is gone."""

    code = "survey_link_invalid"
    status_code = 404

    def __init__(self) -> None:
        super().__init__(_("This survey link is not valid."))


class SurveyLinkExpired(DomainError):
    code = "survey_link_expired"
    status_code = 410

    def __init__(self) -> None:
        super().__init__(_("This survey link has expired."))


class SurveyAlreadyAnswered(ConflictError):
    code = "survey_already_answered"

    def __init__(self) -> None:
        super().__init__(_("This survey has already been answered."))


class ScorecardNotAllowed(DomainError):
    code = "permission_denied"
    status_code = 403


class ScorecardInvalid(DomainError):
    """Bad settings; ``fields`` maps a field (``weights``, ``cap``, ``quarter``, a KPI code) to
    a message in the user's language. Nothing was saved."""

    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(_("The scorecard settings are not valid."))
        self.fields = fields

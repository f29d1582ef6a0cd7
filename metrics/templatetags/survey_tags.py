"""Template tags that compose surveys into the customer page.

``customers`` never imports ``metrics``; ``templates/customers/detail.html`` does
``{% load survey_tags %}`` and ``{% survey_panel customer %}`` instead (templates are the
project's composition layer, as with ``pool_tags``). The panel costs one query (the latest
survey links; the contacts come from the page's context when it has them), plus one to check
permission when the viewer is neither the owner nor an admin.
"""

from typing import Any

from django import template
from django.utils import timezone

from metrics.models import SurveyKind
from metrics.selectors import surveys

register = template.Library()


@register.inclusion_tag("metrics/surveys/_panel.html", takes_context=True)
def survey_panel(context: template.Context, customer: Any) -> dict[str, Any]:
    """The customer page's survey card: send a link, record a phone answer, recent links."""
    user = context["user"]
    allowed = user.is_admin or (customer.owner_id is not None and customer.owner_id == user.pk)
    if not allowed:
        allowed = surveys.may_survey(user=user, customer=customer)
    if not allowed:
        return {"show": False}
    contacts = context.get("contacts")
    if contacts is None:
        contacts = list(customer.contacts.all())
    return {
        "show": True,
        "csrf_token": context.get("csrf_token"),
        "customer": customer,
        "contacts": contacts,
        "email_contacts": [contact for contact in contacts if contact.email],
        "kinds": SurveyKind.choices,
        "invitations": surveys.recent_invitations(customer=customer),
        "now": timezone.now(),
        "nps_scores": range(11),
        "csat_scores": range(1, 6),
    }

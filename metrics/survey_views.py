"""Survey pages: the contact's public answer page (``/s/<token>/``, no login) and the customer
page's two actions, sending a survey link and recording an answer gathered by phone.

The public page speaks the contact's browser language (``LocaleMiddleware`` reads
``Accept-Language``), is never cached, and answers an invalid link with 404, an expired one
with 410 and an answered one with 409, each with a page that says so in words.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from crm_site.http import AuthenticatedRequest
from customers import selectors as customer_selectors
from customers.models import Customer
from metrics import exceptions
from metrics.forms import PhoneAnswerForm, SendSurveyForm, SurveyAnswerForm
from metrics.models import SurveyInvitation, SurveyKind
from metrics.selectors import surveys
from metrics.services import surveys as surveys_services

CLOSED_STATUS = {"invalid": 404, "expired": 410, "answered": 409}


def _closed(request: HttpRequest, reason: str, invitation: SurveyInvitation | None = None) -> HttpResponse:
    return render(
        request,
        "metrics/surveys/closed.html",
        {"reason": reason, "invitation": invitation},
        status=CLOSED_STATUS[reason],
    )


def _no_index(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    return _no_index(_answer(request, token))


def _answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        state = surveys.link_state(token=token)
    except exceptions.SurveyLinkInvalid:
        return _closed(request, "invalid")
    invitation = state.invitation
    if state.is_answered:
        return _closed(request, "answered", invitation)
    if state.is_expired:
        return _closed(request, "expired", invitation)
    form = SurveyAnswerForm(request.POST if request.method == "POST" else None, kind=invitation.kind)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                surveys_services.answer_survey(
                    token=token, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except exceptions.SurveyAlreadyAnswered:
                return _closed(request, "answered", invitation)
            except exceptions.SurveyLinkExpired:
                return _closed(request, "expired", invitation)
            except exceptions.SurveyInvalid as error:
                for message in error.fields.values():
                    form.add_error("score", message)
            else:
                return render(request, "metrics/surveys/thanks.html", {"invitation": invitation})
        status = 400
    return render(
        request,
        "metrics/surveys/answer.html",
        {"invitation": invitation, "form": form, "is_nps": invitation.kind == SurveyKind.NPS},
        status=status,
    )


def _back_to_customer(customer: Customer) -> HttpResponse:
    return redirect(f"{reverse('customers:detail', args=[customer.pk])}#survey-panel")


def _form_problems(form: SendSurveyForm | PhoneAnswerForm) -> str:
    return " ".join(str(message) for messages_ in form.errors.values() for message in messages_)


@login_required
@require_POST
def send(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    """E-mail a survey link to one of the customer's contacts (404 for a customer the user may
    not see)."""
    user = request.user
    customer = customer_selectors.get_visible_customer(user=user, customer_id=customer_id)
    form = SendSurveyForm(request.POST, contacts=customer.contacts.exclude(email=""))
    if not form.is_valid():
        messages.error(request, _form_problems(form))
        return _back_to_customer(customer)
    contact = form.cleaned_data["contact"]
    try:
        surveys_services.send_survey(
            sender=user,
            contact=contact,
            kind=form.cleaned_data["kind"],
            base_url=request.build_absolute_uri("/"),
        )
    except exceptions.SurveyInvalid as error:
        messages.error(request, " ".join(error.fields.values()))
    except exceptions.SurveyNotAllowed as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Survey sent to %(email)s.") % {"email": contact.email})
    return _back_to_customer(customer)


@login_required
@require_POST
def phone_answer(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    """Record an NPS/CSAT answer the contact gave on the phone."""
    user = request.user
    customer = customer_selectors.get_visible_customer(user=user, customer_id=customer_id)
    form = PhoneAnswerForm(request.POST, contacts=customer.contacts.all())
    if not form.is_valid():
        messages.error(request, _form_problems(form))
        return _back_to_customer(customer)
    try:
        surveys_services.record_phone_answer(
            actor=user,
            customer=customer,
            contact=form.cleaned_data["contact"],
            nps=form.cleaned_data["nps"],
            csat=form.cleaned_data["csat"],
            comment=form.cleaned_data["comment"],
        )
    except exceptions.SurveyInvalid as error:
        messages.error(request, " ".join(error.fields.values()))
    except exceptions.SurveyNotAllowed as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Phone answer recorded."))
    return _back_to_customer(customer)

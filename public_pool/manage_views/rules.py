"""Recycle rules of a pool (admins): list, create/edit with validation, enable/disable, and the
live preview that the edit form posts to as the admin types (``services.preview_rule``; nothing
is saved by a preview)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_site.exceptions import DomainError
from crm_site.http import AuthenticatedRequest
from public_pool import selectors, services
from public_pool.exceptions import InvalidInput
from public_pool.manage_forms import PAGE_SIZE, RuleForm, add_service_errors
from public_pool.manage_views.team import admin_only
from public_pool.models import Pool, RecycleRule

# --- recycle rules (admins) ---------------------------------------------------------------------


@admin_only
@require_GET
def rules(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    pool = get_object_or_404(Pool, pk=pool_id)
    rules = selectors.recycle_rules(user=request.user, pool_id=pool.pk)
    page = Paginator(rules, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public_pool/manage/rules.html", {"pool": pool, "page": page})


def _rule_page(request: AuthenticatedRequest, pool: Pool, rule: RecycleRule | None) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                if rule is None:
                    saved = services.create_recycle_rule(
                        actor=user, pool_id=pool.pk, rule=form.to_rule_data()
                    )
                else:
                    saved = services.update_recycle_rule(
                        actor=user, rule_id=rule.pk, rule=form.to_rule_data()
                    )
            except InvalidInput as error:
                add_service_errors(form, error.fields)
            except DomainError as error:
                form.add_error(None, str(error.message))
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
                return redirect("pool_manage:rules", pool_id=pool.pk)
        status = 400
    else:
        initial = RuleForm.initial_from(services.RuleData.from_rule(rule)) if rule else None
        form = RuleForm(initial=initial)
        status = 200
    preview = None
    if rule is not None and request.method != "POST":
        preview = services.preview_rule(pool_id=pool.pk, rule=services.RuleData.from_rule(rule))
    return render(
        request,
        "public_pool/manage/rule_form.html",
        {"pool": pool, "rule": rule, "form": form, "preview": preview},
        status=status,
    )


@admin_only
def rule_create(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    return _rule_page(request, get_object_or_404(Pool, pk=pool_id), None)


@admin_only
def rule_edit(request: AuthenticatedRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RecycleRule.objects.select_related("pool"), pk=rule_id)
    return _rule_page(request, rule.pool, rule)


@admin_only
@require_POST
def rule_preview(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    """htmx: the rule form as typed so far → what it would recycle now (nothing is saved).

    Invalid input (``-3`` days, a day count past its maximum) runs no preview: the answer says
    so and swaps each field's error into its slot beside the input (out-of-band), the same
    words a save would show. The form is ``novalidate`` so the browser does not stop the
    request silently on its own range check (its bubbles speak the browser's language, not
    the page's); the inputs keep their min/max/step for the keyboard and assistive technology.
    """
    pool = get_object_or_404(Pool, pk=pool_id)
    form = RuleForm(request.POST)
    preview = None
    if form.is_valid():
        preview = services.preview_rule(pool_id=pool.pk, rule=form.to_rule_data())
    return render(
        request, "public_pool/manage/_rule_preview.html", {"preview": preview, "form": form, "live": True}
    )


@admin_only
@require_POST
def rule_toggle(request: AuthenticatedRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RecycleRule, pk=rule_id)
    try:
        rule = services.set_recycle_rule_enabled(
            actor=request.user, rule_id=rule.pk, enabled=not rule.enabled
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            (_("Rule “%(name)s” enabled.") if rule.enabled else _("Rule “%(name)s” disabled."))
            % {"name": rule.name},
        )
    return redirect(reverse("pool_manage:rules", kwargs={"pool_id": rule.pool_id}))

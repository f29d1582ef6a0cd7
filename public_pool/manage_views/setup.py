"""Admin configuration pages: pools, release reasons, priority weights, job schedules.

Pools and weights go through ``services.create_pool/update_pool/update_priority_weights``.
Release reasons and job schedules have no business rule beyond their fields, so these pages
save them through a ModelForm / the django-celery-beat models directly (the same thing the
Django admin does). Codes of release reasons never change once made (the log stores them) and
reasons are deactivated, never deleted. Schedules: every periodic job of ``jobs.registry`` (the
entries of ``CELERY_BEAT_SCHEDULE``; the page creates the django-celery-beat rows beat has not
made yet); saving one bumps beat's change marker (the model's save does), so the new time
applies without a deploy. "Run now" and the run history read and write ``jobs.JobRun``.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_site.exceptions import DomainError
from jobs import registry as job_registry
from jobs import services as job_services
from jobs.models import JobRun
from jobs.recorder import RETENTION_DAYS
from public_pool import selectors, services
from public_pool.exceptions import InvalidInput
from public_pool.manage_forms import (
    PAGE_SIZE,
    PoolForm,
    ReleaseReasonForm,
    ScheduleForm,
    WeightsForm,
    add_service_errors,
)
from public_pool.manage_views.team import admin_only
from public_pool.models import Pool, ReleaseReason
from public_pool.services import pools as pool_services
from public_pool.services import schedules as schedule_services
from public_pool.services.schedules import CRONTAB_FIELDS

# --- pools -------------------------------------------------------------------------------------


@admin_only
@require_GET
def pools(request):
    page = Paginator(selectors.pools_with_sizes(request.user).select_related("owner"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "public_pool/manage/pools.html", {"page": page})


def _pool_page(request, pool: Pool | None):
    if request.method == "POST":
        form = PoolForm(request.POST)
        if form.is_valid():
            try:
                if pool is None:
                    saved = services.create_pool(actor=request.user, data=form.to_pool_data())
                else:
                    saved = services.update_pool(
                        actor=request.user, pool_id=pool.pk, data=form.to_pool_data()
                    )
            except InvalidInput as error:
                add_service_errors(form, error.fields)
            except DomainError as error:
                form.add_error(None, str(error.message))
            else:
                messages.success(request, _("Pool “%(name)s” saved.") % {"name": saved.name})
                return redirect("pool_manage:pools")
        status = 400
    else:
        form = PoolForm(initial=PoolForm.initial_from(pool) if pool else None)
        status = 200
    return render(request, "public_pool/manage/pool_form.html", {"pool": pool, "form": form}, status=status)


@admin_only
def pool_create(request):
    return _pool_page(request, None)


@admin_only
def pool_edit(request, pool_id: int):
    return _pool_page(request, get_object_or_404(Pool, pk=pool_id))


# --- release reasons ----------------------------------------------------------------------------


@admin_only
@require_GET
def reasons(request):
    page = Paginator(ReleaseReason.objects.order_by("order", "code"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "public_pool/manage/reasons.html", {"page": page})


@admin_only
def reason_edit(request, reason_id: int | None = None):
    reason = get_object_or_404(ReleaseReason, pk=reason_id) if reason_id else None
    form = ReleaseReasonForm(request.POST or None, instance=reason)
    if request.method == "POST":
        if form.is_valid():
            saved = pool_services.save_release_reason(
                actor=request.user, reason_id=reason.pk if reason else None, values=form.cleaned_data
            )
            messages.success(request, _("Release reason “%(label)s” saved.") % {"label": saved.display_label})
            return redirect("pool_manage:reasons")
        status = 400
    else:
        status = 200
    return render(
        request, "public_pool/manage/reason_form.html", {"form": form, "reason": reason}, status=status
    )


# --- priority weights ---------------------------------------------------------------------------


@admin_only
def weights(request, pool_id: int):
    pool = get_object_or_404(Pool, pk=pool_id)
    if request.method == "POST":
        form = WeightsForm(request.POST)
        if form.is_valid():
            try:
                services.update_priority_weights(
                    actor=request.user, pool_id=pool.pk, data=form.to_weights_data()
                )
            except InvalidInput as error:
                add_service_errors(form, error.fields)
            else:
                messages.success(
                    request, _("Weights saved; the pool's leads are re-scored in the background.")
                )
                return redirect("pool_manage:weights", pool_id=pool.pk)
        status = 400
    else:
        form = WeightsForm(initial=WeightsForm.initial_from(services.weights_for(pool.pk)))
        status = 200
    return render(request, "public_pool/manage/weights.html", {"pool": pool, "form": form}, status=status)


# --- job schedules ------------------------------------------------------------------------------


@admin_only
@require_GET
def schedules(request):
    """Every periodic job: its schedule in words, next run, latest run with its outcome."""
    job_services.ensure_periodic_tasks()
    rows = job_services.job_rows()
    polling = any(row.last_run and row.last_run.is_active for row in rows)  # htmx refreshes the list
    return render(request, "public_pool/manage/schedules.html", {"rows": rows, "polling": polling})


@admin_only
@require_POST
def schedule_run(request, task_id: int):
    """ "Run now": enqueue the job's task; the run shows as queued at once (jobs.recorder)."""
    task = get_object_or_404(schedule_services.pool_jobs(), pk=task_id)
    job_services.run_now(actor=request.user, task=task)
    messages.success(
        request,
        _("“%(name)s” queued; its run is listed below and updates as it runs.") % {"name": job_name(task)},
    )
    return redirect("pool_manage:schedules")


@admin_only
@require_GET
def schedule_runs(request, task_id: int):
    """One job's run history, newest first, paginated."""
    task = get_object_or_404(schedule_services.pool_jobs(), pk=task_id)
    runs = JobRun.objects.filter(job=job_registry.job_of(task.task).key).select_related("triggered_by")
    page = Paginator(runs.order_by("-queued_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "task": task,
        "name": job_name(task),
        "page": page,
        "polling": any(run.is_active for run in page),
        "retention_days": RETENTION_DAYS,
    }
    return render(request, "public_pool/manage/schedule_runs.html", context)


def job_name(task) -> str:
    job = job_registry.by_task(task.task)
    return str(job.name) if job else task.name


@admin_only
def schedule_edit(request, task_id: int):
    job = get_object_or_404(schedule_services.pool_jobs(), pk=task_id)
    kind = "interval" if job.interval_id and not job.crontab_id else "crontab"
    if request.method == "POST":
        form = ScheduleForm(request.POST, kind=kind)
        if form.is_valid():
            data = form.cleaned_data
            if kind == "crontab":
                timing = schedule_services.Timing(crontab={name: data[name] for name in CRONTAB_FIELDS})
            else:
                timing = schedule_services.Timing(every=data["every"], period=data["period"])
            job = schedule_services.set_job_schedule(
                actor=request.user, task_id=job.pk, timing=timing, enabled=data["enabled"]
            )
            messages.success(request, _("Schedule of “%(name)s” saved.") % {"name": job_name(job)})
            return redirect("pool_manage:schedules")
        status = 400
    else:
        initial = {"enabled": job.enabled}
        if kind == "crontab" and job.crontab_id:
            initial |= {name: getattr(job.crontab, name) for name in CRONTAB_FIELDS}
        elif job.interval_id:
            initial |= {"every": job.interval.every, "period": job.interval.period}
        form = ScheduleForm(initial=initial, kind=kind)
        status = 200
    return render(
        request,
        "public_pool/manage/schedule_form.html",
        {"job": job, "name": job_name(job), "form": form},
        status=status,
    )


@admin_only
@require_POST
def schedule_toggle(request, task_id: int):
    get_object_or_404(schedule_services.pool_jobs(), pk=task_id)
    job = schedule_services.toggle_job(actor=request.user, task_id=task_id)
    messages.success(
        request,
        (_("“%(name)s” enabled.") if job.enabled else _("“%(name)s” disabled.")) % {"name": job_name(job)},
    )
    return redirect("pool_manage:schedules")

"""Requesting reports: one job per report and set of results; a report asked for again while it is being
made, or after it was made from the same results, is the same job."""

import hashlib
import logging
import time

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports.models import ReportJob
from reports.results import results_version

log = logging.getLogger(__name__)


def results_key(campaign):
    """Changes whenever a result of the campaign is (re)computed."""
    raw = f"{campaign.pk}:{results_version(campaign)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@transaction.atomic
def report_request(*, kind, campaign, by, region=None, municipality=None, language=None):
    """The job that makes this report: a queued or running one is reused, a finished one too while the
    results have not changed; otherwise a new job goes to the task worker."""
    language = language or translation.get_language() or "ru"
    key = results_key(campaign)
    same = ReportJob.objects.select_for_update().filter(
        kind=kind, campaign=campaign, region=region, municipality=municipality, language=language
    )
    existing = (
        same.filter(status__in=ReportJob.ACTIVE).first()
        or same.filter(status=ReportJob.Status.DONE, results_key=key).first()
    )
    if existing:
        return existing, False
    job = ReportJob.objects.create(
        kind=kind,
        campaign=campaign,
        region=region,
        municipality=municipality,
        language=language,
        results_key=key,
        requested_by=by,
    )
    from reports.tasks import render_report_task

    transaction.on_commit(lambda: render_report_task.enqueue(str(job.pk)))
    return job, True


def _progress(job, percent, step):
    ReportJob.objects.filter(pk=job.pk).update(progress=percent, step=step)


def report_run(job):
    """Make the report of a job (the task worker's side). A job the worker was killed in the middle of is
    run again from the start when the task is retried; a finished one is left alone."""
    from reports import documents

    job.refresh_from_db()
    if job.status == ReportJob.Status.DONE:
        return job
    started = time.monotonic()
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.RUNNING, started_at=timezone.now(), progress=1, error=""
    )
    try:
        with translation.override(job.language):
            content = documents.build(job, lambda percent, step: _progress(job, percent, step))
    except Exception as exc:  # the status page must say it failed, whatever the cause
        log.exception("report %s failed", job.pk)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    job.file.save(job.download_name(), ContentFile(content), save=False)
    ReportJob.objects.filter(pk=job.pk).update(
        file=job.file.name,
        status=ReportJob.Status.DONE,
        progress=100,
        step="",
        finished_at=timezone.now(),
        seconds=round(time.monotonic() - started, 2),
    )
    job.refresh_from_db()
    if job.requested_by_id:
        from municipalities.models import Notification
        from municipalities.notifications import notify

        with translation.override(job.language):
            notify(
                [job.requested_by],
                Notification.Kind.REPORT,
                _("The report is ready: %(report)s") % {"report": job},
                _("«%(campaign)s»: the file is ready to download.") % {"campaign": job.campaign},
                reverse("report_status", args=[job.pk]),
            )
    return job

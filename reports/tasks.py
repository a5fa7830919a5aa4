"""Background work of the reports, run by the task worker (`manage.py run_worker`): making a report file."""

import logging
import time

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from municipalities.models import Notification
from municipalities.notifications import notify
from reports import documents
from reports.models import ReportJob

log = logging.getLogger(__name__)


@task()
def render_report_task(job_id):
    job = ReportJob.objects.filter(pk=job_id).first()
    if job is not None:
        report_run(job)


def _progress(job, percent, step):
    ReportJob.objects.filter(pk=job.pk).update(progress=percent, step=step)


def report_run(job):
    """Make the report of a job (the task worker's side). A job the worker was killed in the middle of is
    run again from the start when the task is retried; a finished one is left alone."""
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
        with translation.override(job.language):
            notify(
                [job.requested_by],
                Notification.Kind.REPORT,
                _("The report is ready: %(report)s") % {"report": job},
                _("«%(campaign)s»: the file is ready to download.") % {"campaign": job.campaign},
                reverse("report_status", args=[job.pk]),
            )
    return job

"""Requesting reports: one job per report and set of results; a report asked for again while it is being
made, or after it was made from the same results, is the same job."""

import hashlib

from django.db import transaction
from django.utils import translation

from assessment.dynamics import succession_of
from reports.models import ReportJob
from reports.results import EVERY_SIGNED_IN, results_version, succession_key
from reports.tasks import render_report_task


def results_key(campaign):
    """Changes whenever a result of the campaign is (re)computed, and with the previous campaign a report compares
    with (its results, their publication, the criteria compared)."""
    previous = succession_key(succession_of(campaign, EVERY_SIGNED_IN))
    raw = f"{campaign.pk}:{results_version(campaign)}:{previous}"
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
    transaction.on_commit(lambda: render_report_task.enqueue(str(job.pk)))
    return job, True

"""Reports made by the task worker: the regional report (PDF, XLSX) and the feedback report to a
municipality. A job records its progress so that a status page can show it, and keeps the file."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def report_path(job, filename):
    return f"reports/{job.campaign_id}/{job.pk.hex}.{job.extension}"


class ReportJob(models.Model):
    class Kind(models.TextChoices):
        REGION_PDF = "region_pdf", _("regional report (PDF)")
        REGION_XLSX = "region_xlsx", _("regional report (Excel)")
        FEEDBACK_PDF = "feedback_pdf", _("feedback report to the municipality (PDF)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("being prepared")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("report"), max_length=16, choices=Kind)
    campaign = models.ForeignKey("assessment.Campaign", models.CASCADE, related_name="report_jobs")
    region = models.ForeignKey("municipalities.Region", models.CASCADE, null=True, blank=True, related_name="+")
    municipality = models.ForeignKey(
        "municipalities.Municipality", models.CASCADE, null=True, blank=True, related_name="+"
    )
    language = models.CharField(max_length=8, default="ru")
    # The results the report was made from: a finished report is reused while they stay the same.
    results_key = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=report_path, max_length=300, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "kind", "status"])]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.region or self.municipality}"

    @property
    def extension(self):
        return "xlsx" if self.kind == self.Kind.REGION_XLSX else "pdf"

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    # A report is made in seconds; a job queued longer than this means no task worker is taking work.
    STALLED_AFTER = datetime.timedelta(minutes=2)

    @property
    def is_stalled(self):
        return self.status == self.Status.QUEUED and timezone.now() - self.created_at > self.STALLED_AFTER

    def download_name(self):
        place = self.region.code if self.region_id else self.municipality.code
        return f"muko-{self.campaign.slug}-{place}-{self.kind.replace('_', '-')}.{self.extension}"

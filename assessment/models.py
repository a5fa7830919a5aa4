import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessment import scoring


class MethodologyLocked(ValidationError):
    pass


class Methodology(models.Model):
    """A versioned set of mechanisms, criteria and level bands. Once a campaign uses it, it is frozen:
    a change makes a new version (services.methodology_new_version), so past results never move."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=300)
    version = models.PositiveIntegerField(_("version"), default=1)
    max_total = models.PositiveIntegerField(_("maximum total"), default=555)
    calibration_note = models.TextField(
        _("about the points and levels"),
        blank=True,
        help_text=_(
            "Which figures are this platform's calibration rather than the federal methodology's, and who "
            "may change them."
        ),
    )
    previous = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous version"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("methodology")
        verbose_name_plural = _("methodologies")
        ordering = ["-version", "code"]

    def __str__(self):
        return _("%(title)s (version %(version)s)") % {
            "title": self.title,
            "version": self.version,
        }

    @property
    def is_locked(self):
        return self.pk is not None and self.campaigns.exists()

    def guard_editable(self):
        if self.is_locked:
            raise MethodologyLocked(
                _("The methodology «%(title)s» is used by a campaign and cannot be changed; create a new version.")
                % {"title": self.title}
            )

    def criteria_total(self):
        return Criterion.objects.filter(mechanism__methodology=self).aggregate(total=Sum("max_points"))["total"] or 0

    @cached_property
    def criteria_count(self):
        """How many criteria the methodology has (81 in 2020: 9 mechanisms × 9 components): data, not a constant."""
        return Criterion.objects.filter(mechanism__methodology=self).count()

    def validation_errors(self):
        """Everything that keeps this methodology from being used by a campaign, as messages."""
        errors = []
        total = self.criteria_total()
        if total != self.max_total:
            errors.append(
                _("The criteria add up to %(total)s points, the methodology declares %(max)s.")
                % {"total": total, "max": self.max_total}
            )
        component_count = self.components.count()
        for mechanism in self.mechanisms.annotate(n=models.Count("criteria")):
            if mechanism.n != component_count:
                errors.append(
                    _("Mechanism %(code)s has %(n)s criteria, one per component (%(m)s) is expected.")
                    % {"code": mechanism.code, "n": mechanism.n, "m": component_count}
                )
        shares = list(self.level_bands.values_list("min_share", flat=True))
        if not shares or min(shares) != 0:
            errors.append(_("The lowest level band must start at 0 %."))
        return errors

    def clean(self):
        if self.pk:
            stored = Methodology.objects.get(pk=self.pk)
            changed = any(getattr(stored, f) != getattr(self, f) for f in ("code", "title", "max_total"))
            if changed:
                stored.guard_editable()

    @cached_property
    def bands(self):
        """Level bands as the pure scoring module wants them."""
        return scoring.Bands.of(self.level_bands.values_list("code", "min_share"))

    def band_rows(self):
        """[(min share as text, code, label)] of the level bands, lowest first: what a page gives its script
        (json_script "level-bands", read by static/js/levels.js), so that no threshold is copied into JavaScript."""
        return [(str(b.min_share), b.code, b.get_code_display()) for b in self.level_bands.order_by("min_share")]


class MethodologyPart(models.Model):
    """Anything that belongs to a methodology is frozen together with it."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._methodology().guard_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._methodology().guard_editable()
        return super().delete(*args, **kwargs)

    def clean(self):
        super().clean()
        self._methodology().guard_editable()

    def _methodology(self):
        return self.methodology


class Component(MethodologyPart):
    """A step of the management cycle (Цели … Анализ эффективности принятых мер)."""

    methodology = models.ForeignKey(Methodology, models.CASCADE, related_name="components")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("management cycle component")
        verbose_name_plural = _("management cycle components")
        ordering = ["methodology", "order"]
        constraints = [models.UniqueConstraint(fields=["methodology", "order"], name="component_unique_order")]

    def __str__(self):
        return f"{self.order}. {self.title}"


class Mechanism(MethodologyPart):
    class Block(models.IntegerChoices):
        RESULTS = 1, _("Mechanisms of managing the quality of educational results")
        ACTIVITY = 2, _("Mechanisms of managing the quality of educational activity")

    methodology = models.ForeignKey(Methodology, models.CASCADE, related_name="mechanisms")
    code = models.CharField(_("code"), max_length=8)
    block = models.PositiveSmallIntegerField(_("block"), choices=Block)
    title = models.CharField(_("title"), max_length=300)
    short_title = models.CharField(_("short title"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        verbose_name = _("mechanism")
        verbose_name_plural = _("mechanisms")
        ordering = ["methodology", "order"]
        constraints = [models.UniqueConstraint(fields=["methodology", "code"], name="mechanism_unique_code")]

    def __str__(self):
        return f"{self.code}. {self.title}"


class Criterion(MethodologyPart):
    """Mechanism × component: what is scored, its maximum and the guidance on what evidence counts."""

    mechanism = models.ForeignKey(Mechanism, models.CASCADE, related_name="criteria", verbose_name=_("mechanism"))
    component = models.ForeignKey(Component, models.PROTECT, related_name="criteria", verbose_name=_("component"))
    code = models.CharField(_("code"), max_length=12)
    max_points = models.PositiveSmallIntegerField(_("maximum points"))
    guidance = models.TextField(_("guidance"), help_text=_("What the municipality must show."))
    evidence = models.TextField(_("what evidence counts"), blank=True)
    recommendation = models.TextField(
        _("recommendation"),
        blank=True,
        help_text=_("Targeted recommendation for a municipality scoring low."),
    )
    evidence_required = models.BooleanField(_("evidence required"), default=True)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["mechanism__order", "component__order"]
        constraints = [
            models.UniqueConstraint(fields=["mechanism", "component"], name="criterion_unique_cell"),
            models.UniqueConstraint(fields=["mechanism", "code"], name="criterion_unique_code"),
        ]

    def __str__(self):
        return f"{self.code} {self.component.title}"

    def _methodology(self):
        return self.mechanism.methodology

    def clean(self):
        super().clean()
        if self.component_id and self.mechanism_id and self.component.methodology_id != self.mechanism.methodology_id:
            raise ValidationError({"component": _("The component belongs to another methodology.")})


class LevelBand(MethodologyPart):
    """A level starts at a share of the maximum; the next band's start is its end."""

    class Level(models.TextChoices):
        NOT_FORMED = "not_formed", _("not formed")
        SEPARATE_ELEMENTS = (
            "separate_elements",
            _("separate elements of the system exist"),
        )
        PARTIALLY_FORMED = "partially_formed", _("partially formed")
        FORMED = "formed", _("formed")

    methodology = models.ForeignKey(Methodology, models.CASCADE, related_name="level_bands")
    code = models.CharField(_("level"), max_length=32, choices=Level)
    min_share = models.DecimalField(_("from share of maximum"), max_digits=4, decimal_places=3)
    color = models.CharField(_("colour"), max_length=7, default="#6c757d")

    class Meta:
        verbose_name = _("level band")
        verbose_name_plural = _("level bands")
        ordering = ["methodology", "min_share"]
        constraints = [
            models.UniqueConstraint(fields=["methodology", "code"], name="levelband_unique_code"),
            models.CheckConstraint(
                condition=models.Q(min_share__gte=0, min_share__lt=1),
                name="levelband_share",
            ),
        ]

    def __str__(self):
        return f"{self.get_code_display()} ≥ {self.min_share:.0%}"


class Stage(models.TextChoices):
    """The stages of a campaign, in the order the seeds describe them."""

    RESOURCES = "resources", _("Organisational resources")
    CONSULTATION = "consultation", _("Consultation")
    DATA_COLLECTION = "data_collection", _("Data collection")
    SURVEYS = "surveys", _("School surveys")
    PRESCORING = "prescoring", _("Pre-scoring")
    EXPERT_REVIEW = "expert_review", _("Expert review")
    APPEALS = "appeals", _("Appeals")
    RESULTS = "results", _("Publication of results")


STAGE_ORDER = list(Stage)


def new_results_version():
    return uuid.uuid4().hex


class Campaign(models.Model):
    slug = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=300)
    year = models.PositiveSmallIntegerField(_("year"))
    methodology = models.ForeignKey(
        Methodology,
        models.PROTECT,
        related_name="campaigns",
        verbose_name=_("methodology"),
    )
    municipalities = models.ManyToManyField(
        "municipalities.Municipality",
        through="Participation",
        related_name="campaigns",
        verbose_name=_("participating municipalities"),
    )
    experts_per_submission = models.PositiveSmallIntegerField(
        _("experts per submission"), default=1, choices=[(1, "1"), (2, "2")]
    )
    blind_review = models.BooleanField(
        _("blind review"), default=False, help_text=_("Experts do not see the coordinator's pre-score.")
    )
    reconcile_points = models.PositiveSmallIntegerField(_("reconciliation threshold, points"), default=2)
    reconcile_share = models.DecimalField(
        _("reconciliation threshold, share of the maximum"), max_digits=3, decimal_places=2, default=Decimal("0.20")
    )
    previous = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="following",
        verbose_name=_("previous campaign"),
        help_text=_("The campaign this one follows: its results are compared with this one's."),
    )
    # Replaced whenever results_compute writes or removes a Result: the key of everything cached about the
    # results, read with the campaign's own row instead of aggregating its thousands of Results per request.
    results_version = models.CharField(_("results version"), max_length=32, default=new_results_version, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-year", "title"]

    def __str__(self):
        return self.title

    def clean(self):
        if self.methodology_id:
            errors = self.methodology.validation_errors()
            if errors:
                raise ValidationError({"methodology": errors})

    @cached_property
    def stage_dates(self):
        """{Stage: CampaignStage} for the stages that have dates."""
        return {Stage(s.stage): s for s in self.stages.all()}

    def stage_on(self, day):
        """The stage running on `day`: the latest-ordered stage whose period contains it (stages may overlap,
        surveys run beside data collection), else None before the campaign or between stages."""
        current = None
        for stage in STAGE_ORDER:
            period = self.stage_dates.get(stage)
            if period and period.starts_on <= day <= period.ends_on:
                current = stage
        if current is None:
            results = self.stage_dates.get(Stage.RESULTS)
            if results and day > results.ends_on:
                return Stage.RESULTS
        return current

    @property
    def current_stage(self):
        return self.stage_on(timezone.localdate())

    def results_published_on(self, day):
        """The results are published from the first day of the results stage: the one definition (who may see
        them before is Access.may_see_results)."""
        results = self.stage_dates.get(Stage.RESULTS)
        return bool(results and day >= results.starts_on)

    @property
    def results_published(self):
        return self.results_published_on(timezone.localdate())

    def next_stage(self, day=None):
        """The next stage to start after `day`, with its period, for "what comes next" on dashboards."""
        day = day or timezone.localdate()
        upcoming = [s for s in self.stage_dates.values() if s.starts_on > day]
        return min(upcoming, key=lambda s: s.starts_on) if upcoming else None


class CampaignStage(models.Model):
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="stages")
    stage = models.CharField(_("stage"), max_length=32, choices=Stage)
    title = models.CharField(
        _("title in the campaign's documents"),
        max_length=300,
        blank=True,
        help_text=_("As the campaign's order or letter names the stage; empty: the stage's usual name."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("campaign stage")
        verbose_name_plural = _("campaign stages")
        ordering = ["campaign", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "stage"], name="campaignstage_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="campaignstage_order",
            ),
        ]

    def __str__(self):
        return f"{self.display_title}: {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"

    @property
    def display_title(self):
        """The stage as the campaign's documents name it (the 2020 pilot's stages had titles of their own)."""
        return self.title or self.get_stage_display()

    def days_left(self, day: date | None = None):
        return (self.ends_on - (day or timezone.localdate())).days


class Participation(models.Model):
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="participations")
    municipality = models.ForeignKey("municipalities.Municipality", models.PROTECT, related_name="participations")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [models.UniqueConstraint(fields=["campaign", "municipality"], name="participation_unique")]

    def __str__(self):
        return f"{self.campaign} — {self.municipality}"


class Material(models.Model):
    """Guidance for a campaign: documents, webinar recordings, FAQ. The operator's are for everyone; a
    coordinator's are for their region."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", _("document")
        WEBINAR = "webinar", _("webinar")
        LINK = "link", _("link")
        FAQ = "faq", _("question and answer")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="materials")
    region = models.ForeignKey(
        "municipalities.Region",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="materials",
        verbose_name=_("region"),
        help_text=_("Empty: for every region."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.DOCUMENT)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True, help_text=_("The answer, for a question; a description otherwise."))
    url = models.URLField(_("link"), max_length=1000, blank=True)
    file = models.FileField(_("file"), upload_to="materials/%Y/", blank=True, max_length=300)
    held_on = models.DateField(_("date"), null=True, blank=True, help_text=_("For a webinar: the day it is held."))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    is_removed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["kind", "order", "title"]

    def __str__(self):
        return self.title


class SubmissionQuerySet(models.QuerySet):
    def locked(self, pk):
        """The submission with its row locked until the transaction ends. Every writer of a submission (answers,
        evidence, analyses, scores, extensions, every move of the workflow) calls this first, before it reads
        what it checks and before it locks any of the submission's rows: one order of locks, so writers queue
        instead of deadlocking, and what submit checks and freezes cannot change under it."""
        return self.select_for_update(of=("self",)).get(pk=pk)


class Submission(models.Model):
    """One municipality's materials in one campaign, and where they stand in the workflow
    (the transition table lives in assessment/workflow.py)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        PRESCORED = "prescored", _("pre-scored")
        IN_REVIEW = "in_review", _("in expert review")
        RETURNED = "returned", _("returned for corrections")
        FINALIZED = "finalized", _("finalized")
        APPEALED = "appealed", _("under appeal")

    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="submissions", verbose_name=_("campaign"))
    municipality = models.ForeignKey(
        "municipalities.Municipality", models.PROTECT, related_name="submissions", verbose_name=_("municipality")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.DRAFT, db_index=True)
    deadline_extended_to = models.DateField(_("extended deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["campaign", "municipality__name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "municipality"], name="submission_unique")]

    def __str__(self):
        return f"{self.municipality} — {self.campaign}"

    @property
    def is_editable(self):
        """The organizer may change the form only before submitting or after it was returned."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def deadline(self):
        collection = self.campaign.stage_dates.get(Stage.DATA_COLLECTION)
        base = collection.ends_on if collection else None
        if self.deadline_extended_to and (base is None or self.deadline_extended_to > base):
            return self.deadline_extended_to
        return base

    def days_left(self, day=None):
        deadline = self.deadline()
        return None if deadline is None else (deadline - (day or timezone.localdate())).days

    def is_assigned_to(self, user_id, *, open_only=False):
        """Whether `user_id` is an active expert of this submission (with `open_only`, one who has not completed
        the review yet)."""
        assignments = self.assignments.filter(expert_id=user_id, is_active=True)
        if open_only:
            assignments = assignments.filter(completed_at__isnull=True)
        return user_id is not None and assignments.exists()


class StatusChange(models.Model):
    """Every move of a submission: who, when, from, to, why."""

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="status_changes")
    old = models.CharField(_("from"), max_length=16, choices=Submission.Status, blank=True)
    new = models.CharField(_("to"), max_length=16, choices=Submission.Status)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    # What the organizer had sent, frozen at each submit: later rounds never overwrite an earlier one.
    snapshot = models.JSONField(null=True, blank=True)
    # The criteria named when the submission was sent back for corrections.
    criteria = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["submission", "at", "pk"]

    def __str__(self):
        return f"{self.submission}: {self.old} → {self.new}"


class DeadlineExtension(models.Model):
    """A coordinator's extension of the data-collection deadline for one municipality."""

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="extensions")
    until = models.DateField(_("extended until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        ordering = ["submission", "-granted_at"]

    def __str__(self):
        return f"{self.submission} → {self.until:%d.%m.%Y}"


class Answer(models.Model):
    """The organizer's account of one criterion: what is in place, with evidence."""

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="answers")
    description = models.TextField(_("what is in place"), blank=True, max_length=10000)
    is_complete = models.BooleanField(_("complete"), default=False)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["submission", "criterion"], name="answer_unique")]

    def __str__(self):
        return f"{self.submission} {self.criterion.code}"


class EvidenceLink(models.Model):
    """A URL offered as evidence, with the summary of its latest checks (history in LinkCheck)."""

    class State(models.TextChoices):
        UNCHECKED = "unchecked", _("not checked yet")
        OK = "ok", _("available")
        FAILING = "failing", _("not responding")
        DEAD = "dead", _("broken")
        REFUSED = "refused", _("address not allowed")

    answer = models.ForeignKey(Answer, models.CASCADE, related_name="links")
    url = models.URLField(_("link"), max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(_("check"), max_length=16, choices=State, default=State.UNCHECKED, db_index=True)
    failures = models.PositiveSmallIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    title = models.CharField(_("page title"), max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sha256_at_scoring = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence link")
        verbose_name_plural = _("evidence links")
        ordering = ["answer", "position", "pk"]

    def __str__(self):
        return self.url

    @property
    def changed_since_scoring(self):
        return bool(self.sha256_at_scoring and self.sha256 and self.sha256 != self.sha256_at_scoring)

    @property
    def is_problem(self):
        return self.state in (self.State.DEAD, self.State.FAILING, self.State.REFUSED)


class LinkCheck(models.Model):
    """One fetch of an evidence link."""

    link = models.ForeignKey(EvidenceLink, models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=16)  # saved, submit, scoring, schedule
    ok = models.BooleanField()
    http_status = models.PositiveSmallIntegerField(null=True)
    final_url = models.URLField(max_length=2000, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["link", "-checked_at"]

    def __str__(self):
        return f"{self.link_id} {self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else self.error}"


def attachment_path(instance, filename):
    # A random name: the original one is kept in the row, never used as a path.
    return f"evidence/{instance.answer.submission.campaign_id}/{instance.answer.submission_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    answer = models.ForeignKey(Answer, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    is_removed = models.BooleanField(default=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    # The stored file of a removed attachment is deleted after REMOVED_FILES_RETENTION_DAYS (purge_removed_files);
    # the row stays, so the history still names the file.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["answer", "uploaded_at"]

    def __str__(self):
        return self.original_name


class MechanismAnalysis(models.Model):
    """The form for the results of comprehensive analysis, one per mechanism."""

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="analyses")
    mechanism = models.ForeignKey(Mechanism, models.PROTECT, related_name="+")
    conclusions = models.TextField(_("conclusions"), blank=True, max_length=10000)
    problems = models.TextField(_("problems found"), blank=True, max_length=10000)
    measures = models.TextField(_("measures planned"), blank=True, max_length=10000)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("results of comprehensive analysis")
        verbose_name_plural = _("results of comprehensive analysis")
        constraints = [models.UniqueConstraint(fields=["submission", "mechanism"], name="analysis_unique")]

    def __str__(self):
        return f"{self.submission} {self.mechanism.code}"

    @property
    def is_complete(self):
        return bool(self.conclusions.strip() and self.problems.strip() and self.measures.strip())


class Score(models.Model):
    """Points for one criterion in one round. A new value is a new row; the latest row of a round is current,
    earlier rows are its history."""

    class Round(models.TextChoices):
        PRESCORE = "prescore", _("pre-score")
        EXPERT = "expert", _("expert")
        FINAL = "final", _("final")
        APPEAL = "appeal", _("appeal")

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="scores")
    round = models.CharField(_("round"), max_length=16, choices=Round)
    points = models.PositiveSmallIntegerField(_("points"))
    comment = models.TextField(_("comment"), blank=True, max_length=5000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    is_current = models.BooleanField(default=True)
    previous = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["submission", "criterion", "round", "at"]
        indexes = [models.Index(fields=["submission", "round", "is_current"])]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "criterion", "round", "by"],
                condition=models.Q(is_current=True),
                name="score_one_current_per_author",
            )
        ]

    def __str__(self):
        return f"{self.criterion.code}: {self.points}"


class Result(models.Model):
    """A finalized submission's totals, levels and ranks, materialized for fast rankings and reports.
    Recomputed only by finalization and appeal decisions (assessment/results.py)."""

    submission = models.OneToOneField(Submission, models.CASCADE, related_name="result")
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="results")
    municipality = models.ForeignKey("municipalities.Municipality", models.PROTECT, related_name="results")
    total = models.PositiveIntegerField(_("total"))
    max_total = models.PositiveIntegerField(_("maximum"))
    share = models.DecimalField(_("share of the maximum"), max_digits=6, decimal_places=4)
    level = models.CharField(_("level"), max_length=32, choices=LevelBand.Level)
    mechanisms = models.JSONField(_("points per mechanism"), default=dict)
    rank_region = models.PositiveIntegerField(_("rank in the region"), null=True)
    rank_country = models.PositiveIntegerField(_("rank in the country"), null=True)
    computed_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        ordering = ["campaign", "rank_country", "municipality__name"]
        indexes = [models.Index(fields=["campaign", "-total"])]

    def __str__(self):
        return f"{self.municipality}: {self.total}/{self.max_total}"


class ReviewAssignment(models.Model):
    submission = models.ForeignKey(Submission, models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="review_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("expert assignment")
        verbose_name_plural = _("expert assignments")
        ordering = ["due_on", "submission__municipality__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "expert"], condition=models.Q(is_active=True), name="assignment_unique_active"
            )
        ]

    def __str__(self):
        return f"{self.expert} → {self.submission}"


class ExpertConflict(models.Model):
    """A conflict of interest an expert declared: they never get this municipality."""

    expert = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="declared_conflicts")
    municipality = models.ForeignKey("municipalities.Municipality", models.CASCADE, related_name="expert_conflicts")
    reason = models.CharField(_("reason"), max_length=500)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [models.UniqueConstraint(fields=["expert", "municipality"], name="conflict_unique")]

    def __str__(self):
        return f"{self.expert} × {self.municipality}"


class Appeal(models.Model):
    """The organizer's appeal against the final points of one criterion, decided by an expert who did not
    review the submission."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="appeals")
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="+")
    argument = models.TextField(_("argument"), max_length=5000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome, blank=True)
    points = models.PositiveSmallIntegerField(_("points after the appeal"), null=True, blank=True)
    reason = models.TextField(_("reason of the decision"), blank=True, max_length=5000)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["submission", "criterion__mechanism__order", "criterion__component__order"]
        constraints = [models.UniqueConstraint(fields=["submission", "criterion"], name="appeal_once_per_criterion")]

    def __str__(self):
        return f"{self.submission} {self.criterion.code}"


class CampaignDocument(models.Model):
    """A letter or order the campaign runs under (its basis): a federal letter for everyone, a regional order
    for its region."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="basis", verbose_name=_("campaign"))
    title = models.CharField(_("title"), max_length=500)
    issuer = models.CharField(_("issued by"), max_length=300, blank=True)
    number = models.CharField(_("number"), max_length=64, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    region = models.ForeignKey(
        "municipalities.Region",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="campaign_documents",
        verbose_name=_("region"),
        help_text=_("Empty: for every region."),
    )
    url = models.URLField(_("link"), max_length=1000, blank=True)
    file = models.FileField(_("file"), upload_to="basis/%Y/", blank=True, max_length=300)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("basis document")
        verbose_name_plural = _("basis documents")
        ordering = ["campaign", "order", "date", "pk"]

    def __str__(self):
        return self.title


class CriterionMapping(models.Model):
    """Which criterion of a later methodology version continues one of an earlier version, for comparing points
    across campaigns. Without a row, criteria of the same code correspond; a row with no target says that the
    criterion has no counterpart (and the comparison says so instead of inventing a number)."""

    source = models.OneToOneField(
        Criterion, models.CASCADE, related_name="mapped_to", verbose_name=_("criterion of the earlier version")
    )
    target = models.ForeignKey(
        Criterion,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="mapped_from",
        verbose_name=_("criterion of the later version"),
        help_text=_("Empty: no counterpart."),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("criterion mapping")
        verbose_name_plural = _("criterion mappings")
        constraints = [models.UniqueConstraint(fields=["target"], name="criterion_mapping_one_source_per_target")]

    def __str__(self):
        return f"{self.source.code} → {self.target.code if self.target else '—'}"


# --- plans of measures: the municipality's answer to its results (assessment/measures.py) ----------------------


class MeasurePlanQuerySet(models.QuerySet):
    def locked(self, pk):
        """The plan with its row locked until the transaction ends: every writer of a plan, its measures and their
        progress calls this first, so that two edits queue and what a check read cannot change under it."""
        return self.select_for_update(of=("self",)).get(pk=pk)


class MeasurePlan(models.Model):
    """The plan of measures (план мероприятий) a municipality makes in answer to its results in a campaign: drafted
    by its organizer, approved or returned by the region's coordinator, reported on during the year, read-only once
    the next campaign's data collection opens (assessment/measures.py)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted for approval")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned for revision")

    campaign = models.ForeignKey(
        Campaign, models.PROTECT, related_name="measure_plans", verbose_name=_("campaign whose results it answers")
    )
    municipality = models.ForeignKey(
        "municipalities.Municipality", models.PROTECT, related_name="measure_plans", verbose_name=_("municipality")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.DRAFT, db_index=True)
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("approved or returned at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )

    objects = MeasurePlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan of measures")
        verbose_name_plural = _("plans of measures")
        ordering = ["campaign", "municipality__name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "municipality"], name="measureplan_unique")]

    def __str__(self):
        return f"{self.municipality} — {self.campaign}"

    @property
    def is_editable(self):
        """The organizer changes the measures of a draft, or of a plan the coordinator returned."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @property
    def drafted_on(self):
        """The plan's date: no measure of it may be due before it."""
        return timezone.localtime(self.created_at).date()


class MeasurePlanChange(models.Model):
    """Every move of a plan: who, when, from, to, why (as StatusChange for a submission)."""

    plan = models.ForeignKey(MeasurePlan, models.CASCADE, related_name="changes")
    old = models.CharField(_("from"), max_length=16, choices=MeasurePlan.Status, blank=True)
    new = models.CharField(_("to"), max_length=16, choices=MeasurePlan.Status)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("change of a plan of measures")
        verbose_name_plural = _("changes of plans of measures")
        ordering = ["plan", "at", "pk"]

    def __str__(self):
        return f"{self.plan}: {self.old} → {self.new}"


class Measure(models.Model):
    """One measure of a plan: what is done, about which criteria (of the plan's campaign's methodology), by whom,
    by when, with what expected result and indicator. Never deleted: a removed measure is hidden (`is_removed`)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", pgettext_lazy("measure", "in progress")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    CLOSED = (Status.DONE, Status.CANCELLED)

    plan = models.ForeignKey(MeasurePlan, models.CASCADE, related_name="measures", verbose_name=_("plan"))
    title = models.CharField(_("measure"), max_length=300)
    criteria = models.ManyToManyField(Criterion, related_name="measures", verbose_name=_("criteria it addresses"))
    responsible = models.CharField(_("responsible person"), max_length=200)
    due_on = models.DateField(_("due date"))
    expected_result = models.TextField(_("expected result"), max_length=2000)
    indicator = models.TextField(_("indicator"), max_length=1000)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PLANNED, db_index=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_removed = models.BooleanField(default=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["plan", "order", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return self.title

    def is_overdue(self, day=None):
        """Due date passed and neither done nor cancelled."""
        return self.status not in self.CLOSED and self.due_on < (day or timezone.localdate())


def measure_file_path(instance, filename):
    # A random name: the original one is kept in the row, never used as a path.
    return f"measures/{instance.measure.plan.campaign_id}/{instance.measure.plan_id}/{uuid.uuid4().hex}"


class MeasureProgress(models.Model):
    """A report on a measure during the year: its status from then on, a comment, evidence links and a file."""

    measure = models.ForeignKey(Measure, models.CASCADE, related_name="progress", verbose_name=_("measure"))
    status = models.CharField(_("status"), max_length=16, choices=Measure.Status)
    comment = models.TextField(_("comment"), blank=True, max_length=5000)
    links = models.JSONField(_("evidence links"), default=list, blank=True)
    file = models.FileField(_("file"), upload_to=measure_file_path, blank=True, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["measure", "at", "pk"]

    def __str__(self):
        return f"{self.measure}: {self.status}"

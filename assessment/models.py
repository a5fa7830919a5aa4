from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

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

    @property
    def is_finished(self):
        results = self.stage_dates.get(Stage.RESULTS)
        return bool(results and timezone.localdate() >= results.starts_on)

    def next_stage(self, day=None):
        """The next stage to start after `day`, with its period, for "what comes next" on dashboards."""
        day = day or timezone.localdate()
        upcoming = [s for s in self.stage_dates.values() if s.starts_on > day]
        return min(upcoming, key=lambda s: s.starts_on) if upcoming else None


class CampaignStage(models.Model):
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="stages")
    stage = models.CharField(_("stage"), max_length=32, choices=Stage)
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
        return f"{self.get_stage_display()}: {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"

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

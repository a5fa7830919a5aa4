from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("Subject code, e.g. 43."))
    name = models.CharField(_("name"), max_length=200)
    quality_center = models.CharField(_("regional quality assessment centre"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name


class MunicipalityQuerySet(models.QuerySet):
    def in_display_order(self):
        """Cities first (they are the largest), then the districts alphabetically, as regional reports list them."""
        city_first = models.Case(
            models.When(kind=Municipality.Kind.CITY_DISTRICT, then=0), default=1, output_field=models.IntegerField()
        )
        return self.order_by("region__code", city_first, "name")


# A page lists the municipalities of its scope one by one up to this many; beyond that (the ministry's 2,400) it
# shows their regions, each linking to the region's own page, which lists them.
LISTED_MUNICIPALITIES = 100


class Municipality(models.Model):
    class Kind(models.TextChoices):
        CITY_DISTRICT = "city_district", _("urban district")
        MUNICIPAL_DISTRICT = "municipal_district", _("municipal district")
        MUNICIPAL_OKRUG = "municipal_okrug", _("municipal okrug")

    region = models.ForeignKey(Region, models.PROTECT, related_name="municipalities", verbose_name=_("region"))
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind, default=Kind.MUNICIPAL_DISTRICT)
    authority_name = models.CharField(_("education authority"), max_length=300, blank=True)
    website = models.URLField(_("authority website"), blank=True)
    email = models.EmailField(_("authority e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["region__code", "name"]

    def __str__(self):
        return self.name


class School(models.Model):
    municipality = models.ForeignKey(
        Municipality,
        models.PROTECT,
        related_name="schools",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("full name"), max_length=400)
    short_name = models.CharField(_("short name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["municipality__name", "short_name"]
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="school_unique_name")]

    def __str__(self):
        return self.short_name


class Role(models.TextChoices):
    OPERATOR = "operator", _("operator")
    COORDINATOR = "coordinator", _("regional coordinator")
    ORGANIZER = "organizer", _("municipal organizer")
    DEPUTY_ORGANIZER = "deputy_organizer", _("deputy municipal organizer")
    EXPERT = "expert", _("expert")
    MINISTRY = "ministry", _("ministry")


REGION_ROLES = {Role.COORDINATOR}
MUNICIPAL_ROLES = {Role.ORGANIZER, Role.DEPUTY_ORGANIZER}


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Appointment(models.Model):
    """A user's role and where it applies. A user may hold several (e.g. expert and coordinator)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="appointments",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role)
    region = models.ForeignKey(
        Region,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("region"),
        help_text=_("Coordinator: the region coordinated. Expert: the home region (conflict of interest)."),
    )
    municipality = models.ForeignKey(
        Municipality,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("municipality"),
    )
    position = models.CharField(_("position"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("appointed at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("appointed by"),
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["role", "region__code", "municipality__name"]
        constraints = [
            # Where a role applies is part of the role: a coordinator without a region would see nothing,
            # an organizer without a municipality could not be scoped at all.
            models.CheckConstraint(
                condition=~Q(role__in=["coordinator"]) | Q(region__isnull=False, municipality__isnull=True),
                name="appointment_coordinator_has_region",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["organizer", "deputy_organizer"]) | Q(municipality__isnull=False),
                name="appointment_organizer_has_municipality",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["operator", "ministry"]) | Q(region__isnull=True, municipality__isnull=True),
                name="appointment_national_roles_unscoped",
            ),
        ]

    def __str__(self):
        where = self.municipality or self.region
        return f"{self.user} — {self.get_role_display()}" + (f" ({where})" if where else "")

    def save(self, *args, **kwargs):
        # An organizer's region follows from the municipality; keep it for region-wide queries.
        if self.municipality_id and self.role in MUNICIPAL_ROLES:
            self.region_id = self.municipality.region_id
        super().save(*args, **kwargs)


class Invitation(models.Model):
    """An e-mailed link to set a password and take up an appointment. Only the token's hash is stored;
    re-sending issues a new token, which voids the old one."""

    appointment = models.ForeignKey(Appointment, models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_count = models.PositiveSmallIntegerField(default=1)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    is_void = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.appointment}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal token for the JSON API (`Authorization: Bearer <token>`), issued on the profile page or by
    `issue_token`. Only the token's sha256 is stored; the token itself is shown once. Revoking keeps the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("beginning of the token"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} — {self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None


class Notification(models.Model):
    """One event for one person: shown under the bell in the product and, unless the person turned that kind
    off, e-mailed (at once, or in the next daily digest). The e-mail and the in-app entry are the same record,
    so nothing said by e-mail is missing in the product."""

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", _("Appointments and invitations")
        SUBMITTED = "submitted", _("Forms submitted")
        RETURNED = "returned", _("Forms returned for corrections")
        ASSIGNMENT = "assignment", _("Assignments to review")
        REVIEW = "review", _("Review progress")
        DEADLINE = "deadline", _("Deadlines and reminders")
        RESULT = "result", _("Results")
        APPEAL = "appeal", _("Appeal decisions")
        REPORT = "report", _("Reports ready")

    # Whoever is appointed must get the link to set a password: that e-mail cannot be turned off.
    ALWAYS_EMAILED = frozenset({Kind.APPOINTMENT})

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    path = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set when e-mailed on its own or in a digest; null for an e-mail still waiting for the digest.
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_pending = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["email_pending", "user"], name="notification_digest"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self):
        return self.read_at is not None


class NotificationSettings(models.Model):
    """A person's e-mail choices: kinds not to e-mail, and one daily digest instead of a message per event.
    No row means the defaults: every kind e-mailed at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_settings")
    email_off = models.JSONField(_("kinds not e-mailed"), default=list, blank=True)
    digest = models.BooleanField(_("daily digest"), default=False)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self):
        return f"{self.user}"

    def emails(self, kind):
        return kind in Notification.ALWAYS_EMAILED or kind not in self.email_off


class CalendarFeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """A person's calendar of their own deadlines at a secret address (`/calendar/<key>.ics`), for calendar apps,
    which cannot log in. The key is random and stored as it is — the settings page shows the address again for a
    second device, as the session table keeps session keys; what it opens is dates and names of the person's own
    work, re-checked against their appointments on every fetch. Revoking keeps the row; a new address voids the old.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="calendar_feeds", verbose_name=_("user")
    )
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="calendarfeed_one_active"
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.key[:6]}…)"

"""School surveys: questionnaires as data, invitations with unguessable tokens, anonymous responses.

Anonymity is structural:
- a Response carries the municipality and the respondent role, never the school, the token or a date;
  the Invitation records only that it was used (a flag, no time), which is all the response rates need;
- while a respondent is answering, the answers live in a Draft tied to the invitation and readable only by
  the browser that wrote it (a second secret, kept in a cookie, is hashed on the draft); submitting copies
  them into a Response and deletes the Draft in one transaction;
- figures are published in steps (`release`): a response counts in no figure until at least PUBLICATION_STEP
  responses of its municipality and role are waiting; they are then published together, written anew in a
  random order (surveys.services.responses_release), so that two views taken before and after one response
  show the same figures, and neither the rows' order nor their keys tell who answered first.
"""

import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from assessment.models import Campaign, CampaignStage, Mechanism, Methodology, Stage
from surveys import answers

# 32 random bytes: 256 bits, far beyond guessing; URL-safe base64 without padding is 43 characters.
TOKEN_BYTES = 32
# No breakdown shows a group smaller than this: three answers cannot be traced to one person.
MIN_GROUP = 3
# Figures change only in steps of at least this many new responses of one municipality and role (and of this
# many new answers to one question): comparing two moments never isolates fewer people than one view does.
PUBLICATION_STEP = MIN_GROUP


class Respondent(models.TextChoices):
    DIRECTOR = "director", _("director")
    DEPUTY = "deputy", _("deputy director")
    TEACHER = "teacher", _("teacher")


class QuestionnaireLocked(ValidationError):
    pass


class Questionnaire(models.Model):
    """The questions for one respondent role under one methodology. Editable by the operator until a
    campaign on this methodology opens its survey; after that, answers depend on the wording."""

    methodology = models.ForeignKey(
        Methodology, models.CASCADE, related_name="questionnaires", verbose_name=_("methodology")
    )
    role = models.CharField(_("respondent"), max_length=16, choices=Respondent)
    title = models.CharField(_("title"), max_length=300)
    intro = models.TextField(_("introduction"), blank=True)
    # Counts the changes of the questions: the key of the in-process cache of the question list.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["methodology", "role"]
        constraints = [models.UniqueConstraint(fields=["methodology", "role"], name="questionnaire_unique_role")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.pk:
            self.guard_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.guard_editable()
        return super().delete(*args, **kwargs)

    @property
    def is_locked(self):
        if self.pk is None:
            return False
        opened = CampaignStage.objects.filter(
            campaign__methodology_id=self.methodology_id, stage=Stage.SURVEYS, starts_on__lte=timezone.localdate()
        )
        return opened.exists() or Response.objects.filter(questionnaire_id=self.pk).exists()

    def guard_editable(self):
        if self.is_locked:
            raise QuestionnaireLocked(
                _("The questionnaire «%(title)s» is in use by an open survey and cannot be changed.")
                % {"title": self.title}
            )


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("single choice")
        MULTIPLE = "multiple", _("multiple choice")
        SCALE = "scale", _("scale 1–5")
        YESNO = "yesno", _("yes / no")
        NUMBER = "number", _("number")
        TEXT = "text", _("free text")

    questionnaire = models.ForeignKey(Questionnaire, models.CASCADE, related_name="questions")
    code = models.CharField(_("code"), max_length=16)
    order = models.PositiveSmallIntegerField(_("order"))
    mechanism = models.ForeignKey(
        Mechanism,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("mechanism"),
        help_text=_("Empty: a question about the respondent and the school."),
    )
    text = models.TextField(_("question"))
    help = models.CharField(_("hint"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    required = models.BooleanField(_("required"), default=True)
    # [{"value": "a", "label": "…", "positive": true, "exclusive": false}]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    scale_labels = models.JSONField(_("scale labels"), default=list, blank=True)
    positive_answer = models.CharField(
        _("positive answer"),
        max_length=3,
        blank=True,
        default="yes",
        choices=[("yes", _("yes")), ("no", _("no"))],
        help_text=_("For a yes/no question: the answer that shows the mechanism at work."),
    )
    min_value = models.IntegerField(_("minimum"), null=True, blank=True)
    max_value = models.IntegerField(_("maximum"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=32, blank=True)
    max_length = models.PositiveIntegerField(_("maximum length"), default=2000)
    depends_on = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="dependents",
        verbose_name=_("depends on the question"),
    )
    depends_values = models.JSONField(_("shown when the answer is"), default=list, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "code"], name="question_unique_code"),
        ]

    def __str__(self):
        return f"{self.code}. {self.text}"

    def save(self, *args, **kwargs):
        self.questionnaire.guard_editable()
        super().save(*args, **kwargs)
        Questionnaire.objects.filter(pk=self.questionnaire_id).update(version=models.F("version") + 1)

    def delete(self, *args, **kwargs):
        self.questionnaire.guard_editable()
        Questionnaire.objects.filter(pk=self.questionnaire_id).update(version=models.F("version") + 1)
        return super().delete(*args, **kwargs)

    def clean(self):
        errors = answers.question_errors(self)
        if errors:
            raise ValidationError(errors)

    @cached_property
    def positive_values(self):
        """The answers that count as evidence that the mechanism works."""
        if self.kind in (self.Kind.SINGLE, self.Kind.MULTIPLE):
            return frozenset(c["value"] for c in self.choices if c.get("positive"))
        if self.kind == self.Kind.SCALE:
            return frozenset({"4", "5"})
        if self.kind == self.Kind.YESNO:
            return frozenset({self.positive_answer or "yes"})
        return frozenset()

    @property
    def depends_labels(self):
        """The answers to the parent question that show this one, as a respondent reads them."""
        labels = self.depends_on.value_labels if self.depends_on_id else {}
        return [labels.get(v, v) for v in self.depends_values]

    @property
    def counts_positive(self):
        return bool(self.positive_values)

    @property
    def value_labels(self):
        # Not cached: the labels of yes/no follow the language of each request (question objects are
        # shared between requests, see services.questions_of).
        if self.kind in (self.Kind.SINGLE, self.Kind.MULTIPLE):
            return {c["value"]: c["label"] for c in self.choices}
        if self.kind == self.Kind.YESNO:
            return {"yes": str(_("Yes")), "no": str(_("No"))}
        if self.kind == self.Kind.SCALE:
            low, high = (self.scale_labels + ["", ""])[:2]
            return {
                str(n): (f"{n} — {low}" if n == 1 and low else f"{n} — {high}" if n == 5 and high else str(n))
                for n in range(1, 6)
            }
        return {}


class InvitationQuerySet(models.QuerySet):
    def completed(self):
        return self.filter(completed=True)

    def pending(self):
        return self.filter(completed=False)


class Invitation(models.Model):
    """A link for one respondent role of one school in one campaign. It records only whether it was opened
    and used (flags, no times: a time of use could be matched with a response), never what was answered.
    The links travel from the region (coordinator or operator) to the school's own address; nobody appointed
    to the school's municipality may hold them (Access.may_hold_survey_links)."""

    # Every submission updates its invitation, and such an update writes an entry into each of its indexes: no
    # index of the campaign alone (the two below start with it) and none for LIKE on the token (a UniqueConstraint,
    # not unique=True, which on PostgreSQL adds one).
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="survey_invitations", db_index=False)
    school = models.ForeignKey("municipalities.School", models.PROTECT, related_name="survey_invitations")
    role = models.CharField(_("respondent"), max_length=16, choices=Respondent)
    token = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    opened = models.BooleanField(_("opened"), default=False)
    completed = models.BooleanField(_("answered"), default=False)
    emailed_at = models.DateTimeField(_("link sent"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)
    reissued_at = models.DateTimeField(_("link replaced"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["campaign", "school", "role"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "school", "role"], name="survey_invitation_unique"),
            models.UniqueConstraint(fields=["token"], name="survey_invitation_token_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "completed"])]

    def __str__(self):
        return f"{self.school} — {self.get_role_display()}"

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = self.new_token()
        super().save(*args, **kwargs)

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(TOKEN_BYTES)

    @property
    def is_completed(self):
        return self.completed


class Draft(models.Model):
    """Answers in progress, so that the same link resumes. Deleted when the response is submitted: it is
    the only row that ties answers to a token, and it must not outlive the submission.

    The token opens the questionnaire, not the draft: the draft is read only with the secret the browser
    that started it keeps in a cookie (its hash is stored here), so whoever else holds the link can neither
    read nor change half-given answers."""

    invitation = models.OneToOneField(Invitation, models.CASCADE, related_name="draft")
    answers = models.JSONField(default=dict)
    page = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)

    def __str__(self):
        return f"draft {self.invitation_id}"


class ResponseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(release__isnull=False)

    def waiting(self):
        return self.filter(release__isnull=True)


class Response(models.Model):
    """One submitted questionnaire: a random key, the municipality and the role. No school, no date, no
    token: nothing on this row or its answers leads back to the invitation that was used. `release` is the
    publication step it was published in (empty while it waits for PUBLICATION_STEP responses of its group)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of the campaign alone: the (campaign, municipality, role, release) index below starts with it.
    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="survey_responses", db_index=False)
    questionnaire = models.ForeignKey(Questionnaire, models.PROTECT, related_name="responses")
    municipality = models.ForeignKey("municipalities.Municipality", models.PROTECT, related_name="survey_responses")
    role = models.CharField(_("respondent"), max_length=16, choices=Respondent)
    release = models.PositiveIntegerField(_("publication step"), null=True, blank=True, editable=False)
    # The answers of a response waiting for its publication step, [[question id, value, number, text], …]: they
    # become answer rows only when the step publishes them under a new key, so each answer is written once.
    pending = models.JSONField(_("answers waiting for publication"), null=True, blank=True, editable=False)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["campaign", "municipality", "role", "release"])]

    def __str__(self):
        return f"{self.municipality} — {self.get_role_display()}"


class ResponseAnswer(models.Model):
    """One answer: a choice, yes/no, a scale point or a number in `value` (one row per chosen option of
    a multiple-choice question), the number also in `number`, free text in `text`."""

    response = models.ForeignKey(Response, models.CASCADE, related_name="answers")
    # No index of its own: the index on (question, value) serves every lookup by question, and each answer row
    # written costs one index less.
    question = models.ForeignKey(Question, models.PROTECT, related_name="answers", db_index=False)
    value = models.CharField(max_length=64, blank=True)
    number = models.IntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [models.Index(fields=["question", "value"])]

    def __str__(self):
        return f"{self.question.code}: {self.value or self.text[:40]}"

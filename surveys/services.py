"""Writes of the survey: questionnaires from fixtures, invitations, drafts, the one-time submission,
e-mails to schools. Keyword-only functions named <thing>_<action>."""

import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import Campaign, CampaignStage, Mechanism, Stage
from assessment.tasks import schedule_mail
from municipalities.models import School
from municipalities.notifications import email_message
from surveys import answers as A
from surveys.models import Draft, Invitation, Question, Questionnaire, Respondent, Response, ResponseAnswer


class SurveyError(Exception):
    """A refusal with a message for the respondent; `errors` maps question codes to messages."""

    def __init__(self, message, errors=None, missing=()):
        super().__init__(message)
        self.errors = errors or {}
        self.missing = list(missing)


class AlreadySubmitted(SurveyError):
    pass


# --- questionnaires --------------------------------------------------------------------------------------


@transaction.atomic
def questionnaires_import(*, data, methodology):
    """Create the questionnaires of a methodology from their JSON description (fixtures/questionnaires_*.json).
    Idempotent: a role that already has a questionnaire is left as it is. Any invalid question rolls the
    whole import back with its code named."""
    mechanisms = {m.code: m for m in Mechanism.objects.filter(methodology=methodology)}
    created = 0
    for q_data in data["questionnaires"]:
        role = Respondent(q_data["role"])
        if Questionnaire.objects.filter(methodology=methodology, role=role).exists():
            continue
        questionnaire = Questionnaire.objects.create(
            methodology=methodology, role=role, title=q_data["title"], intro=q_data.get("intro", "")
        )
        by_code, parents = {}, {}
        for order, item in enumerate(q_data["questions"], start=1):
            question = Question(
                questionnaire=questionnaire,
                code=item["code"],
                order=order,
                mechanism=mechanisms[item["mechanism"]] if item.get("mechanism") else None,
                text=item["text"],
                help=item.get("help", ""),
                kind=item["kind"],
                required=item.get("required", True),
                choices=item.get("choices", []),
                scale_labels=item.get("scale_labels", []),
                positive_answer=item.get("positive", "yes") if item["kind"] == A.YESNO else "",
                min_value=item.get("min"),
                max_value=item.get("max"),
                unit=item.get("unit", ""),
                max_length=item.get("max_length", 2000),
                depends_values=item.get("depends_values", []),
            )
            errors = A.question_errors(question)
            if item.get("depends_on"):
                parent = by_code.get(item["depends_on"])
                if parent is None:
                    errors.append(f"depends on an unknown or later question {item['depends_on']}")
                elif not question.depends_values or not set(question.depends_values) <= set(A.allowed_values(parent)):
                    errors.append(f"depends on values that {parent.code} does not offer")
                parents[question.code] = item["depends_on"]
            if question.code in by_code:
                errors.append("the code is used twice")
            if errors:
                raise ValueError(f"{item['code']}: {'; '.join(map(str, errors))}")
            by_code[question.code] = question
        # In bulk: a questionnaire is new here, so the per-row lock check of Question.save has nothing to guard.
        Question.objects.bulk_create(by_code.values())
        ids = dict(questionnaire.questions.values_list("code", "pk"))
        dependents = []
        for code, parent in parents.items():
            question = Question(pk=ids[code], depends_on_id=ids[parent])
            dependents.append(question)
        Question.objects.bulk_update(dependents, ["depends_on"])
        created += 1
    return created


def questionnaires_import_file(*, path, methodology):
    return questionnaires_import(data=json.loads(Path(path).read_text(encoding="utf-8")), methodology=methodology)


def questionnaires_copy(*, source, target):
    """Carry the questionnaires over to a new version of the methodology (mechanisms matched by code)."""
    mechanisms = {m.code: m for m in Mechanism.objects.filter(methodology=target)}
    for questionnaire in source.questionnaires.prefetch_related("questions__mechanism", "questions__depends_on"):
        copy = Questionnaire.objects.create(
            methodology=target, role=questionnaire.role, title=questionnaire.title, intro=questionnaire.intro
        )
        by_code = {}
        for q in questionnaire.questions.all():
            by_code[q.code] = Question.objects.create(
                questionnaire=copy,
                code=q.code,
                order=q.order,
                mechanism=mechanisms.get(q.mechanism.code) if q.mechanism_id else None,
                text=q.text,
                help=q.help,
                kind=q.kind,
                required=q.required,
                choices=q.choices,
                scale_labels=q.scale_labels,
                positive_answer=q.positive_answer,
                min_value=q.min_value,
                max_value=q.max_value,
                unit=q.unit,
                max_length=q.max_length,
                depends_on=by_code.get(q.depends_on.code) if q.depends_on_id else None,
                depends_values=q.depends_values,
            )


_QUESTIONS = {}  # (questionnaire id, version) → ordered questions; read-only objects shared by requests


def invitation_by_token(token):
    """The invitation of a token with all a survey request needs, in ONE query: the campaign, the school,
    the survey stage's dates, the questionnaire's cache key and the draft. Every page, autosave and
    submission of a survey starts here, so it is written out once instead of five ORM queries."""
    t = {m: m._meta.db_table for m in (Invitation, Draft, Questionnaire)}
    sql = f"""
        SELECT i.id, i.role, i.completed_at, i.opened_at, i.campaign_id, i.school_id,
               c.slug, c.title, c.year, c.methodology_id, s.name, s.short_name, s.municipality_id,
               st.starts_on, st.ends_on, q.id, q.version, d.id, d.answers, d.page
        FROM {t[Invitation]} i
        JOIN {Campaign._meta.db_table} c ON c.id = i.campaign_id
        JOIN {School._meta.db_table} s ON s.id = i.school_id
        LEFT JOIN {CampaignStage._meta.db_table} st ON st.campaign_id = c.id AND st.stage = %s
        LEFT JOIN {t[Questionnaire]} q ON q.methodology_id = c.methodology_id AND q.role = i.role
        LEFT JOIN {t[Draft]} d ON d.invitation_id = i.id
        WHERE i.token = %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [Stage.SURVEYS.value, token])
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, role, completed_at, opened_at, campaign_id, school_id, slug, title, year, methodology_id, school_name,
     short_name, municipality_id, starts_on, ends_on, q_id, q_version, d_id, d_answers, d_page) = row  # fmt: skip
    campaign = Campaign(id=campaign_id, slug=slug, title=title, year=year, methodology_id=methodology_id)
    stages = {}
    if starts_on is not None:
        stages[Stage.SURVEYS] = CampaignStage(
            campaign=campaign, stage=Stage.SURVEYS, starts_on=_day(starts_on), ends_on=_day(ends_on)
        )
    campaign.__dict__["stage_dates"] = stages  # the cached_property, filled from this query
    invitation = Invitation(
        id=pk, role=role, token=token, campaign=campaign, completed_at=completed_at, opened_at=opened_at,
        school=School(id=school_id, name=school_name, short_name=short_name, municipality_id=municipality_id),
    )  # fmt: skip
    invitation.questionnaire_key = (q_id, q_version) if q_id else None
    invitation.loaded_draft = None
    if d_id is not None:
        answers = json.loads(d_answers) if isinstance(d_answers, str | bytes) else d_answers
        invitation.loaded_draft = Draft(id=d_id, invitation_id=pk, answers=answers or {}, page=d_page)
    return invitation


def _day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def questions_of(campaign, role, key=None):
    """The ordered questions a respondent of `role` answers in `campaign`, with their mechanisms.

    Building ~30 question objects with their JSON on every page of a survey was the largest cost of a
    submission; they are kept per questionnaire version (bumped by every change of a question), so a
    cheap key query is all a request pays."""
    key = key or (
        Questionnaire.objects.filter(methodology_id=campaign.methodology_id, role=role)
        .values_list("pk", "version")
        .first()
    )
    if key is None:
        return []
    questions = _QUESTIONS.get(key)
    if questions is None:
        questions = list(
            Question.objects.filter(questionnaire_id=key[0])
            .select_related("mechanism", "questionnaire")
            .order_by("order")
        )
        if len(_QUESTIONS) > 64:
            _QUESTIONS.clear()
        _QUESTIONS[key] = questions
    return questions


# --- the survey period -----------------------------------------------------------------------------------


def survey_period(campaign):
    return campaign.stage_dates.get(Stage.SURVEYS)


def survey_state(campaign, today=None):
    """ "open", "not_started" or "closed" (also when the campaign has no survey stage)."""
    today = today or timezone.localdate()
    period = survey_period(campaign)
    if period is None or today > period.ends_on:
        return "closed"
    if today < period.starts_on:
        return "not_started"
    return "open"


# --- invitations -----------------------------------------------------------------------------------------


@transaction.atomic
def invitations_create(*, campaign, municipalities=None):
    """An invitation for each active school of each participating municipality (optionally only these
    municipalities) and each respondent role. Idempotent: existing invitations keep their tokens."""
    schools = School.objects.filter(is_active=True, municipality__participations__campaign=campaign)
    if municipalities is not None:
        schools = schools.filter(municipality__in=municipalities)
    have = set(Invitation.objects.filter(campaign=campaign, school__in=schools).values_list("school_id", "role"))
    new = [
        Invitation(campaign=campaign, school_id=school_id, role=role, token=Invitation.new_token())
        for school_id in schools.values_list("pk", flat=True).distinct()
        for role in Respondent.values
        if (school_id, role) not in have
    ]
    Invitation.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return len(new)


def survey_url(token):
    return f"{settings.SITE_URL}{reverse('survey', args=[token])}"


def _school_messages(campaign, invitations, *, reminder):
    by_school = {}
    for inv in invitations:
        by_school.setdefault(inv.school, []).append(inv)
    period = survey_period(campaign)
    until = period.ends_on.strftime("%d.%m.%Y") if period else ""
    messages = []
    for school, invs in by_school.items():
        lines = "\n".join(f"— {inv.get_role_display()}: {survey_url(inv.token)}" for inv in invs)
        subject = (_("Reminder: school survey «%(campaign)s»") if reminder else _("School survey «%(campaign)s»")) % {
            "campaign": campaign.title
        }
        body = _(
            "Dear colleagues,\n\n%(school)s is invited to the survey of the assessment of municipal mechanisms "
            "of education quality management. Please pass each link to the person named beside it; each link "
            "is personal to the role and can be used once. The survey is anonymous and takes about 15 minutes; "
            "answers are saved as you go.\n\n%(links)s\n\nThe survey is open until %(until)s."
        ) % {"school": school.name, "links": lines, "until": until}
        messages.append(email_message([school.email], subject, body, settings_link=False))
    return messages


@transaction.atomic
def links_send(*, campaign, municipalities):
    """E-mail each school (where its address is known) the links of its roles that are not answered yet.
    Returns (schools e-mailed, schools without an address)."""
    pending = list(
        Invitation.objects.pending()
        .filter(campaign=campaign, school__municipality__in=municipalities)
        .select_related("school")
        .order_by("school__short_name", "role")
    )
    with_email = [inv for inv in pending if inv.school.email]
    schedule_mail(_school_messages(campaign, with_email, reminder=False))
    Invitation.objects.filter(pk__in=[inv.pk for inv in with_email]).update(emailed_at=timezone.now())
    return len({inv.school_id for inv in with_email}), len({inv.school_id for inv in pending if not inv.school.email})


@transaction.atomic
def reminders_send(*, campaign, municipalities, today=None):
    """Remind schools that have not answered (once a day at most per school). Returns schools reminded."""
    today = today or timezone.localdate()
    if survey_state(campaign, today) != "open":
        return 0
    pending = list(
        Invitation.objects.pending()
        .filter(campaign=campaign, school__municipality__in=municipalities)
        .exclude(school__email="")
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__date__lt=today))
        .select_related("school")
        .order_by("school__short_name", "role")
    )
    schedule_mail(_school_messages(campaign, pending, reminder=True))
    Invitation.objects.filter(pk__in=[inv.pk for inv in pending]).update(reminded_at=timezone.now())
    return len({inv.school_id for inv in pending})


# --- answering -------------------------------------------------------------------------------------------


def _raw(submitted, key):
    """A field's values as a list, from a QueryDict (a form) or a plain dict of lists."""
    if hasattr(submitted, "getlist"):
        return submitted.getlist(key)
    value = submitted.get(key, [])
    return value if isinstance(value, list) else [value]


def _merge(questions, draft_answers, submitted, page_questions):
    """The draft's answers with what a page sent: the page's questions take the sent value or are
    cleared (an unticked box sends nothing); other questions present in the form are taken too, so a
    client may send the whole questionnaire at once."""
    page_codes = {q.code for q in page_questions}
    sent = [q for q in questions if q.code in page_codes or f"q-{q.code}" in submitted]
    values, errors = A.clean_answers(questions, {q.code: _raw(submitted, f"q-{q.code}") for q in sent}, only=sent)
    merged = {k: v for k, v in draft_answers.items() if k not in {q.code for q in sent}}
    merged.update(values)
    return A.visible_answers(questions, merged), errors


def _stored_answers(questions, stored):
    """A draft's JSON, re-validated: a value that no longer fits (edited JSON, changed question) is dropped."""
    result = {}
    by_code = {q.code: q for q in questions}
    for code, value in (stored or {}).items():
        q = by_code.get(code)
        if q is not None:
            clean, error = A.parse_stored(q, value)
            if clean is not None and not error:
                result[code] = clean
    return result


def draft_answers(invitation, questions):
    if hasattr(invitation, "loaded_draft"):
        draft = invitation.loaded_draft
    else:
        draft = Draft.objects.filter(invitation=invitation).first()
    return _stored_answers(questions, draft.answers if draft else {}), draft


@transaction.atomic
def draft_save(*, invitation, questions, submitted, page_questions, page):
    """Save what a page sent. A page with an invalid value saves nothing and names the questions."""
    current, draft = draft_answers(invitation, questions)
    merged, errors = _merge(questions, current, submitted, page_questions)
    if errors:
        raise SurveyError(_("Some answers could not be accepted; see the questions marked below."), errors)
    updated = Draft.objects.filter(invitation=invitation).update(answers=merged, page=page, updated_at=timezone.now())
    if not updated:
        try:
            with transaction.atomic():
                Draft.objects.create(invitation=invitation, answers=merged, page=page)
        except IntegrityError:  # two tabs saving the first page at once
            Draft.objects.filter(invitation=invitation).update(answers=merged, page=page, updated_at=timezone.now())
    return merged


def answer_rows(questions, answers):
    """(question id, value, number, text) for each stored answer; a multiple choice gives a row per option."""
    by_code = {q.code: q for q in questions}
    for code, value in answers.items():
        q = by_code[code]
        if q.kind == A.MULTIPLE:
            yield from ((q.pk, v, None, "") for v in value)
        elif q.kind == A.NUMBER:
            yield (q.pk, str(value), value, "")
        elif q.kind == A.TEXT:
            yield (q.pk, "", None, value)
        else:
            yield (q.pk, value, None, "")


def answers_insert(response, rows):
    """All the answers of a response in one INSERT statement. Building ~30 model objects for bulk_create
    was a third of the cost of a submission; this is the same rows without them."""
    rows = list(rows)
    if not rows:
        return
    table = connection.ops.quote_name(ResponseAnswer._meta.db_table)
    response_id = Response._meta.pk.get_db_prep_value(response.pk, connection)
    placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = [p for question_id, value, number, text in rows for p in (response_id, question_id, value, number, text)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (response_id, question_id, value, number, text) VALUES {placeholders}", params
        )


def response_submit(*, invitation, questions, submitted, page_questions, today=None, current=None, had_draft=True):
    """Accept the questionnaire once. The invitation is marked completed by a conditional UPDATE in the
    same transaction as the response: of two submits sent at the same moment exactly one wins, the other
    finds the invitation already completed and writes nothing."""
    today = today or timezone.localdate()
    if current is None:
        current, draft = draft_answers(invitation, questions)
        had_draft = draft is not None
    merged, errors = _merge(questions, current, submitted, page_questions)
    if errors:
        raise SurveyError(_("Some answers could not be accepted; see the questions marked below."), errors)
    absent = A.missing(questions, merged)
    if absent:
        raise SurveyError(_("Answer the required questions first."), missing=absent)
    with transaction.atomic():
        won = Invitation.objects.filter(pk=invitation.pk, completed_at__isnull=True).update(completed_at=timezone.now())
        if not won:
            raise AlreadySubmitted(
                _("This questionnaire has already been submitted; a second submission is not accepted.")
            )
        school = invitation.school
        response = Response.objects.create(
            campaign_id=invitation.campaign_id,
            questionnaire_id=questions[0].questionnaire_id,
            school_id=school.pk,
            municipality_id=school.municipality_id,
            role=invitation.role,
            submitted_on=today,
        )
        answers_insert(response, answer_rows(questions, merged))
        # The draft is the only tie between these answers and the token: it goes with the submission.
        if had_draft:
            Draft.objects.filter(invitation=invitation).delete()
    return response

"""Writes of the survey: questionnaires from fixtures, invitations, drafts, the one-time submission,
e-mails to schools. Keyword-only functions named <thing>_<action>."""

import hashlib
import hmac
import json
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import Campaign, CampaignStage, Mechanism, Stage
from config.sql import execute as sql_execute
from municipalities.mail import email_message, schedule_mail
from municipalities.models import School
from surveys import answers as A
from surveys.models import (
    PUBLICATION_STEP,
    Draft,
    Invitation,
    Question,
    Questionnaire,
    Respondent,
    Response,
    ResponseAnswer,
)


class SurveyError(Exception):
    """A refusal with a message for the respondent; `errors` maps question codes to messages."""

    def __init__(self, message, errors=None, missing=()):
        super().__init__(message)
        self.errors = errors or {}
        self.missing = list(missing)


class AlreadySubmitted(SurveyError):
    pass


class DraftElsewhere(SurveyError):
    """A draft of this link belongs to another browser: it is neither shown nor overwritten here."""


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
        SELECT i.id, i.role, i.completed, i.opened, i.campaign_id, i.school_id,
               c.slug, c.title, c.year, c.methodology_id, s.name, s.short_name, s.municipality_id,
               st.starts_on, st.ends_on, q.id, q.version, d.id, d.answers, d.page, d.secret_hash
        FROM {t[Invitation]} i
        JOIN {Campaign._meta.db_table} c ON c.id = i.campaign_id
        JOIN {School._meta.db_table} s ON s.id = i.school_id
        LEFT JOIN {CampaignStage._meta.db_table} st ON st.campaign_id = c.id AND st.stage = %s
        LEFT JOIN {t[Questionnaire]} q ON q.methodology_id = c.methodology_id AND q.role = i.role
        LEFT JOIN {t[Draft]} d ON d.invitation_id = i.id
        WHERE i.token = %s"""
    with connection.cursor() as cursor:
        # Planning this join took ten times executing it (EXPLAIN ANALYZE: 0.35 ms against 0.03 ms), on every
        # survey request: prepared once per connection.
        sql_execute(cursor, sql, [Stage.SURVEYS.value, token], prepared="survey_invitation_by_token")
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, role, completed, opened, campaign_id, school_id, slug, title, year, methodology_id, school_name,
     short_name, municipality_id, starts_on, ends_on, q_id, q_version, d_id, d_answers, d_page, d_secret) = row  # fmt: skip
    campaign = Campaign(id=campaign_id, slug=slug, title=title, year=year, methodology_id=methodology_id)
    stages = {}
    if starts_on is not None:
        stages[Stage.SURVEYS] = CampaignStage(
            campaign=campaign, stage=Stage.SURVEYS, starts_on=_day(starts_on), ends_on=_day(ends_on)
        )
    campaign.__dict__["stage_dates"] = stages  # the cached_property, filled from this query
    invitation = Invitation(
        id=pk, role=role, token=token, campaign=campaign, completed=bool(completed), opened=bool(opened),
        school=School(id=school_id, name=school_name, short_name=short_name, municipality_id=municipality_id),
    )  # fmt: skip
    invitation.questionnaire_key = (q_id, q_version) if q_id else None
    invitation.loaded_draft = None
    if d_id is not None:
        answers = json.loads(d_answers) if isinstance(d_answers, str | bytes) else d_answers
        invitation.loaded_draft = Draft(
            id=d_id, invitation_id=pk, answers=answers or {}, page=d_page, secret_hash=d_secret or ""
        )
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
            "answers are saved as you go.\n\n%(links)s\n\nThe survey is open until %(until)s. Please do not pass the "
            "links to the municipal education authority: the survey assesses its work. If a link is lost, ask for a "
            "new one at %(new_link)s (the old one then stops working)."
        ) % {
            "school": school.name,
            "links": lines,
            "until": until,
            "new_link": f"{settings.SITE_URL}{reverse('survey_lost_link')}",
        }
        messages.append(email_message([school.email], subject, body, settings_link=False))
    return messages


def _emailed_today(campaign, schools, today):
    """The schools of `schools` that were sent links (first, again or replaced) today: one such e-mail a day."""
    return set(
        Invitation.objects.filter(campaign=campaign, school__in=schools, emailed_at__date=today)
        .values_list("school_id", flat=True)
        .distinct()
    )


@dataclass
class Sending:
    """What a sending of links did: schools e-mailed, schools without an address, schools already sent their
    links today (skipped)."""

    sent: int = 0
    without_email: int = 0
    today_already: int = 0


def _send(campaign, invitations, today, *, reminder=False):
    by_school = {}
    for inv in invitations:
        by_school.setdefault(inv.school_id, []).append(inv)
    done = _emailed_today(campaign, list(by_school), today) if not reminder else set()
    outcome, mailed = Sending(), []
    for school_id, invs in by_school.items():
        if not invs[0].school.email:
            outcome.without_email += 1
        elif school_id in done:
            outcome.today_already += 1
        else:
            outcome.sent += 1
            mailed.extend(invs)
    schedule_mail(_school_messages(campaign, mailed, reminder=reminder))
    field = "reminded_at" if reminder else "emailed_at"
    Invitation.objects.filter(pk__in=[inv.pk for inv in mailed]).update(**{field: timezone.now()})
    return outcome


@transaction.atomic
def links_send(*, campaign, municipalities, today=None):
    """E-mail each school, at its own address, the links of its roles that are not answered yet; at most once
    a day per school (a second press the same day sends nothing). Returns a Sending."""
    pending = (
        Invitation.objects.pending()
        .filter(campaign=campaign, school__municipality__in=municipalities)
        .select_related("school")
        .order_by("school__short_name", "role")
    )
    return _send(campaign, pending, today or timezone.localdate())


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
    return _send(campaign, pending, today, reminder=True).sent


@transaction.atomic
def links_reissue(*, campaign, schools, roles=None, today=None):
    """New links for the unanswered invitations of these schools (optionally only these roles): the old links
    stop working at once. The new ones go to each school's own address, at most once a day per school (a
    school already sent its links today keeps them, so that nobody can make a school's links change all day).
    A respondent's draft stays with the browser that wrote it. Returns a Sending."""
    today = today or timezone.localdate()
    schools = list(schools)
    done = _emailed_today(campaign, schools, today)
    invitations = list(
        Invitation.objects.pending()
        .filter(campaign=campaign, school__in=[s.pk for s in schools])
        .exclude(school_id__in=done)
        .filter(role__in=roles or Respondent.values)
        .select_related("school")
        .order_by("school__short_name", "role")
    )
    now = timezone.now()
    for inv in invitations:
        inv.token = Invitation.new_token()
        inv.reissued_at = now
    Invitation.objects.bulk_update(invitations, ["token", "reissued_at"])
    outcome = _send(campaign, invitations, today)
    outcome.today_already += len(done)
    return outcome


def links_request(*, email, role, today=None):
    """A school that lost a link asks for a new one by its own e-mail address: the links of that role, in every
    campaign whose survey is open now, are replaced and sent to that address. Nothing tells the asker whether
    the address is known (the same answer for every address)."""
    today = today or timezone.localdate()
    email = (email or "").strip()
    if not email or role not in Respondent.values:
        return
    schools = list(School.objects.filter(is_active=True, email__iexact=email))
    if not schools:
        return
    campaigns = Campaign.objects.filter(survey_invitations__school__in=schools).distinct()
    for campaign in campaigns:
        if survey_state(campaign, today) == "open":
            links_reissue(campaign=campaign, schools=schools, roles=[role], today=today)


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


def _secret_hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def new_draft_secret():
    return secrets.token_urlsafe(32)


def draft_of(invitation, secret):
    """(the draft this browser may read, whether a draft of another browser exists). The token opens the
    questionnaire; only the secret of the browser that started the draft opens the draft."""
    if hasattr(invitation, "loaded_draft"):
        draft = invitation.loaded_draft
    else:
        draft = Draft.objects.filter(invitation=invitation).first()
    if draft is None:
        return None, False
    if secret and draft.secret_hash and hmac.compare_digest(draft.secret_hash, _secret_hash(secret)):
        return draft, False
    return None, True


def draft_answers(invitation, questions, secret=None):
    """(answers, draft, elsewhere): the answers this browser saved, its draft, and whether another browser
    holds a draft of this link."""
    draft, elsewhere = draft_of(invitation, secret)
    return _stored_answers(questions, draft.answers if draft else {}), draft, elsewhere


@transaction.atomic
def draft_save(*, invitation, questions, submitted, page_questions, page, secret=None):
    """Save what a page sent; returns (answers, the browser's secret: new when this saves the first draft).
    A page with an invalid value saves nothing and names the questions; a draft of another browser is
    neither read nor overwritten (DraftElsewhere)."""
    current, draft, elsewhere = draft_answers(invitation, questions, secret)
    if elsewhere:
        raise DraftElsewhere(_("This questionnaire was started in another browser."))
    merged, errors = _merge(questions, current, submitted, page_questions)
    if errors:
        raise SurveyError(_("Some answers could not be accepted; see the questions marked below."), errors)
    if draft is not None:
        updated = Draft.objects.filter(invitation=invitation, secret_hash=draft.secret_hash).update(
            answers=merged, page=page, updated_at=timezone.now()
        )
        if updated:
            return merged, secret
        # Started again in another browser in the meantime: this one's answers are no longer its own.
        raise DraftElsewhere(_("This questionnaire was started in another browser."))
    secret = new_draft_secret()
    try:
        with transaction.atomic():
            Draft.objects.create(invitation=invitation, answers=merged, page=page, secret_hash=_secret_hash(secret))
    except IntegrityError:  # another tab or browser saved the first page at the same moment
        raise DraftElsewhere(_("This questionnaire was started in another browser.")) from None
    return merged, secret


def draft_discard(*, invitation):
    """Start again: the draft of whichever browser is deleted unread (its holder chose to answer here)."""
    Draft.objects.filter(invitation=invitation).delete()


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


INSERT_BATCH = 1000  # rows per INSERT: well under SQLite's limit of parameters of one statement


def _db_id(response_id):
    return Response._meta.pk.get_db_prep_value(response_id, connection)


def _answers_insert(rows):
    """(response id, question id, value, number, text) rows in one INSERT statement, in the order given."""
    rows = list(rows)
    table = connection.ops.quote_name(ResponseAnswer._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} (response_id, question_id, value, number, text) VALUES {placeholders}",
                [p for response_id, *row in batch for p in (_db_id(response_id), *row)],
            )


def response_submit(*, invitation, questions, submitted, page_questions, secret=None, current=None):
    """Accept the questionnaire once. The invitation is marked completed by a conditional UPDATE in the
    same transaction as the response: of two submits sent at the same moment exactly one wins, the other
    finds the invitation already completed and writes nothing. The response waits for its publication step
    (responses_release)."""
    if current is None:
        current, _draft, _elsewhere = draft_answers(invitation, questions, secret)
    merged, errors = _merge(questions, current, submitted, page_questions)
    if errors:
        raise SurveyError(_("Some answers could not be accepted; see the questions marked below."), errors)
    absent = A.missing(questions, merged)
    if absent:
        raise SurveyError(_("Answer the required questions first."), missing=absent)
    municipality_id = invitation.school.municipality_id
    response = Response(
        id=uuid.uuid4(),
        campaign_id=invitation.campaign_id,
        questionnaire_id=questions[0].questionnaire_id,
        municipality_id=municipality_id,
        role=invitation.role,
        pending=[list(row) for row in answer_rows(questions, merged)],
    )
    with transaction.atomic():
        if not _submission_write(invitation, response):
            raise AlreadySubmitted(
                _("This questionnaire has already been submitted; a second submission is not accepted.")
            )
        responses_release(campaign_id=invitation.campaign_id, municipality_id=municipality_id, role=invitation.role)
    return response


def _submission_write(invitation, response):
    """The writes of a submission, in the caller's transaction: the invitation marked completed if it was not
    (whether it was is the return value: nothing else is written otherwise), the response with its answers
    waiting in it, and the draft deleted — the only tie between these answers and the token goes with the
    submission. Plain statements, as the publication step's: the same three through the ORM were a fifth of a
    worker's samples (py-spy under make bench), most of it compiling them."""
    table = connection.ops.quote_name
    pending = Response._meta.get_field("pending").get_db_prep_value(response.pending, connection)
    with connection.cursor() as cursor:
        sql_execute(
            cursor,
            f"UPDATE {table(Invitation._meta.db_table)} SET completed = %s, opened = %s WHERE id = %s AND NOT completed",
            [True, True, invitation.pk],
            prepared="survey_invitation_complete",
        )
        if cursor.rowcount != 1:
            return False
        sql_execute(
            cursor,
            f"INSERT INTO {table(Response._meta.db_table)} "
            "(id, campaign_id, questionnaire_id, municipality_id, role, release, pending) "
            "VALUES (%s, %s, %s, %s, %s, NULL, %s)",
            [
                _db_id(response.id),
                response.campaign_id,
                response.questionnaire_id,
                response.municipality_id,
                response.role,
                pending,
            ],
            prepared="survey_response_insert",
        )
        sql_execute(
            cursor,
            f"DELETE FROM {table(Draft._meta.db_table)} WHERE invitation_id = %s",
            [invitation.pk],
            prepared="survey_draft_delete",
        )
    return True


# --- publication in steps --------------------------------------------------------------------------------


def _group_key(campaign_id, municipality_id, role):
    """The two keys of the advisory lock of one group (campaign, municipality, role)."""
    return campaign_id % 2**31, (municipality_id * len(Respondent.values) + Respondent.values.index(role)) % 2**31


def _lock_group(campaign_id, municipality_id, role):
    """Serialise the releases of one group. On SQLite the submission's first UPDATE already holds the
    database's write lock; on PostgreSQL two submissions of one group would each count the other's response
    as missing, so they queue on a transaction-scoped advisory lock (no row of the product is held)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_group_key(campaign_id, municipality_id, role)))


def responses_release(*, campaign_id, municipality_id, role):
    """Publish the waiting responses of one municipality and role as a new step once at least
    PUBLICATION_STEP of them wait. The step's responses and answers are written anew under fresh random keys
    and in a random order: neither a key nor the place of a row tells which came first. Returns the number
    published (0 while fewer wait). Runs inside the caller's transaction, in plain statements rather than a model
    object per row: one reads the group's waiting responses and last step; a release then deletes the waiting
    responses (reading their answers at once) and inserts the new ones and their answer rows."""
    _lock_group(campaign_id, municipality_id, role)
    response_table = connection.ops.quote_name(Response._meta.db_table)
    group = "campaign_id = %s AND municipality_id = %s AND role = %s"
    with connection.cursor() as cursor:
        # The waiting responses of the group, each with the group's last step (one query on every submission).
        sql_execute(
            cursor,
            f"SELECT id, questionnaire_id, (SELECT MAX(release) FROM {response_table} WHERE {group}) "
            f"FROM {response_table} WHERE {group} AND release IS NULL",
            [campaign_id, municipality_id, role] * 2,
        )
        found = cursor.fetchall()
    if len(found) < PUBLICATION_STEP:
        return 0
    step = (found[0][2] or 0) + 1
    waiting = [(_uuid_hex(pk), questionnaire_id) for pk, questionnaire_id, _last in found]
    old_ids = [pk for pk, _q, _last in found]
    in_ids = ", ".join(["%s"] * len(old_ids))
    answers = {}
    with connection.cursor() as cursor, _checked_as_the_tables_are_now(cursor):
        # Rewritten, not lost: the waiting answers become rows under new keys (the old rows go in the same
        # transaction).
        cursor.execute(f"DELETE FROM {response_table} WHERE id IN ({in_ids}) RETURNING id, pending", old_ids)
        rows_deleted = cursor.fetchall()
    for response_id, pending in rows_deleted:
        pending = json.loads(pending) if isinstance(pending, str) else pending  # SQLite gives the text
        answers[_uuid_hex(response_id)] = [tuple(row) for row in pending or ()]
    shuffle = secrets.SystemRandom().shuffle
    shuffle(waiting)
    published, rows = [], []
    for old_id, questionnaire_id in waiting:
        new_id = uuid.uuid4()
        published.append((_db_id(new_id), campaign_id, questionnaire_id, municipality_id, role, step))
        own = answers.get(old_id, [])
        shuffle(own)
        rows.extend((new_id, *row) for row in own)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {response_table} (id, campaign_id, questionnaire_id, municipality_id, role, release) "
            f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s)'] * len(published))}",
            [p for row in published for p in row],
        )
    _answers_insert(rows)
    return len(published)


@contextmanager
def _checked_as_the_tables_are_now(cursor):
    """Deleting a waiting response, PostgreSQL checks that no answer row refers to it (the foreign key) with a
    plan it keeps per connection: made while the answer table was small, that plan scans the whole table on every
    release until the connection closes (a minute: CONN_MAX_AGE), and when a survey opens the table grows by tens
    of thousands of rows in that minute (make bench: 5 ms of the database's CPU per submission). Around the
    delete, the checks run at once, planned for the tables as they are now (the index on the answers' response);
    then the checks are deferred again and the kept plans used, for the answer rows inserted next (planned anew,
    their hundred checks were a third of the database's CPU)."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan; SET CONSTRAINTS ALL IMMEDIATE")
    yield
    cursor.execute("SET CONSTRAINTS ALL DEFERRED; SET LOCAL plan_cache_mode TO DEFAULT")


def _uuid_hex(value):
    """A response key as the database gives it back (a UUID, or its text with or without dashes), as hex."""
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "").lower()

"""Plans of measures (планы мероприятий): the municipality's answer to its results, the rules that keep a plan sound
and every write to it. Keyword-only functions named <thing>_<action>; every write is atomic and takes the plan's row
lock first; a refused write raises MeasureError with a message for the user and changes nothing.

The cycle: once a campaign's results are published the municipality's organizer (or deputy) drafts a plan, from the
product's proposal (the weakest criteria and their recommendations) or from nothing; submits it; the region's
coordinator approves it or returns it with a reason; during the year the organizer reports progress on each measure.
The plan closes (read-only) when the data collection of the next campaign the municipality takes part in opens: that
campaign's results then measure the effect (assessment/measure_selectors.py)."""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from assessment.collection import (
    CONTENT_TYPES,
    CollectionError,
    coordinators,
    organizers_of,
    parse_links,
    plain_text,
    validate_upload,
)
from assessment.models import (
    Campaign,
    Criterion,
    Measure,
    MeasurePlan,
    MeasurePlanChange,
    MeasureProgress,
    Participation,
    Result,
    Stage,
)
from assessment.results import current_points
from municipalities.models import Notification
from municipalities.notifications import already_today, notify

MAX_MEASURES = 40
MAX_CRITERIA = 12  # one or several criteria a measure; a measure "on everything" says nothing
MAX_TITLE = 300
MAX_RESPONSIBLE = 200
MAX_EXPECTED = 2000
MAX_INDICATOR = 1000
MAX_COMMENT = 5000
MAX_REASON = 5000
MAX_PROGRESS_LINKS = 10
PROPOSED = 8  # measures the proposal drafts: the weakest criteria that have a recommendation
PLAN_YEARS = 3  # without a next campaign yet, no measure is due more than this many years after the plan

S = MeasurePlan.Status
FIELD_ORDER = ("title", "criteria", "responsible", "due", "expected_result", "indicator")


class MeasureError(Exception):
    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


# --- the weakest criteria: the one rule for the scorecard's recommendations, the reports and the proposal ---------


def weakest_criteria(criteria, points, limit=None):
    """The criteria with a recommendation that did not reach their maximum, weakest first: the lowest share of the
    maximum, then the larger maximum (it moves the total most), then the code. `points`: {code: points}."""
    weak = sorted(
        (c for c in criteria if c.recommendation and (points.get(c.code) or 0) < c.max_points),
        key=lambda c: ((points.get(c.code) or 0) / c.max_points, -c.max_points, c.code),
    )
    return weak if limit is None else weak[:limit]


# --- the next campaign: where the effect is measured, and when the plan closes -----------------------------------


def followers(pairs):
    """{(campaign id, municipality id): the campaign that follows that campaign (Campaign.previous) with that
    municipality among its participants}, for every pair that has one: two queries whatever the number of pairs."""
    pairs = set(pairs)
    found = {}
    candidates = list(
        Campaign.objects.filter(previous_id__in={campaign_id for campaign_id, _m in pairs})
        .select_related("methodology")
        .prefetch_related("stages")
        .order_by("year", "pk")
    )
    if not candidates:
        return found
    taking_part = set(
        Participation.objects.filter(campaign__in=candidates).values_list("campaign_id", "municipality_id")
    )
    for campaign in reversed(candidates):  # the earliest follower wins: it is written last
        for campaign_id, municipality_id in pairs:
            if campaign.previous_id == campaign_id and (campaign.pk, municipality_id) in taking_part:
                found[campaign_id, municipality_id] = campaign
    return found


def next_campaigns(plans):
    """{plan pk: its next campaign} of the plans that have one (see followers)."""
    plans = list(plans)
    found = followers((p.campaign_id, p.municipality_id) for p in plans)
    return {p.pk: found[p.campaign_id, p.municipality_id] for p in plans if (p.campaign_id, p.municipality_id) in found}


def next_campaign(campaign, municipality_id):
    """The campaign that measures the effect of the municipality's plan answering `campaign`, or None."""
    return followers([(campaign.pk, municipality_id)]).get((campaign.pk, municipality_id))


def _collection_start(campaign):
    period = campaign.stage_dates.get(Stage.DATA_COLLECTION) if campaign else None
    return period.starts_on if period else None


def lock_reason(following, today):
    """Why a plan whose next campaign is `following` is read-only on `today`, or None while it is open: the next
    campaign's data collection has started (what was done is then what its results measure)."""
    start = _collection_start(following)
    if start is None or start > today:
        return None
    return _(
        "The plan is read-only: the data collection of «%(campaign)s», whose results measure the effect of the "
        "measures, opened on %(date)s."
    ) % {"campaign": following.title, "date": formats.date_format(start, "j E Y")}


@dataclass
class PlanState:
    """What a plan's rules depend on besides the plan itself: its next campaign and the day."""

    following: object  # the next campaign, or None
    today: date
    locked: str | None = None  # why the plan is read-only

    @classmethod
    def of(cls, following, today):
        return cls(following, today, lock_reason(following, today))

    def due_limit(self, drafted_on):
        """(the latest due date a measure may have, why)."""
        start = _collection_start(self.following)
        if start is not None:
            return start, "collection"
        return drafted_on.replace(year=drafted_on.year + PLAN_YEARS) - timedelta(days=1), "years"


def state_of(plan, today=None):
    return PlanState.of(next_campaigns([plan]).get(plan.pk), today or timezone.localdate())


# --- a measure as typed, checked --------------------------------------------------------------------------------


@dataclass
class MeasureInput:
    """A measure as the organizer typed it (or the proposal drafted it): texts as posted, `criteria` as codes of the
    plan's methodology or Criterion rows, `due` as a date or its ISO text."""

    title: str = ""
    criteria: list = field(default_factory=list)
    responsible: str = ""
    due: object = None
    expected_result: str = ""
    indicator: str = ""


def _text(errors, name, value, maximum, missing, longer):
    value = plain_text(value if isinstance(value, str) else "")
    if not value:
        errors[name] = missing
    elif len(value) > maximum:
        errors[name] = longer % {"max": maximum}
    return value


def _criteria(errors, plan, given):
    """The Criterion rows of `given` (codes or rows), each of the plan's campaign's methodology."""
    methodology_id = plan.campaign.methodology_id
    codes, rows = [], []
    for item in given or []:
        if isinstance(item, Criterion):
            if item.mechanism.methodology_id != methodology_id:
                errors["criteria"] = _(
                    "Criterion %(code)s belongs to another edition of the methodology than «%(campaign)s» uses."
                ) % {"code": item.code, "campaign": plan.campaign.title}
                return []
            rows.append(item)
        elif isinstance(item, str) and plain_text(item):
            codes.append(plain_text(item)[:20])
    if codes:
        known = {c.code: c for c in Criterion.objects.filter(mechanism__methodology_id=methodology_id, code__in=codes)}
        unknown = [code for code in codes if code not in known]
        if unknown:
            errors["criteria"] = _("%(codes)s: not a criterion of the methodology of «%(campaign)s».") % {
                "codes": ", ".join(unknown[:5]),
                "campaign": plan.campaign.title,
            }
            return []
        rows += [known[code] for code in codes]
    unique = list({c.pk: c for c in rows}.values())
    if not unique:
        errors["criteria"] = _("Name at least one criterion the measure addresses.")
    elif len(unique) > MAX_CRITERIA:
        errors["criteria"] = _("A measure addresses at most %(max)s criteria: split it into several.") % {
            "max": MAX_CRITERIA
        }
    return unique


def _due(errors, plan, value, state):
    if isinstance(value, str):
        try:
            value = date.fromisoformat(plain_text(value)[:10]) if plain_text(value) else None
        except ValueError:
            errors["due"] = _("Give the due date as a date, e.g. 2021-05-31.")
            return None
    if not isinstance(value, date):
        errors["due"] = _("Give the due date.")
        return None
    drafted = plan.drafted_on if plan.pk else state.today
    latest, why = state.due_limit(drafted)
    if value < drafted:
        errors["due"] = _("The due date cannot be before the plan (%(date)s).") % {
            "date": formats.date_format(drafted, "j E Y")
        }
    elif value > latest and why == "collection":
        errors["due"] = _(
            "The due date cannot be later than the start of the data collection of «%(campaign)s» (%(date)s): its "
            "results measure the effect."
        ) % {"campaign": state.following.title, "date": formats.date_format(latest, "j E Y")}
    elif value > latest:
        errors["due"] = _("The due date cannot be more than %(years)s years after the plan.") % {"years": PLAN_YEARS}
    return value


def measure_check(*, plan, data, state):
    """The fields of a Measure from `data` (a MeasureInput), and its criteria; MeasureError naming every field that
    is wrong."""
    errors = {}
    fields = {
        "title": _text(
            errors,
            "title",
            data.title,
            MAX_TITLE,
            _("Give the measure a title."),
            _("The title is longer than %(max)s characters."),
        ),
        "responsible": _text(
            errors,
            "responsible",
            data.responsible,
            MAX_RESPONSIBLE,
            _("Name the person responsible."),
            _("The responsible person is longer than %(max)s characters."),
        ),
        "expected_result": _text(
            errors,
            "expected_result",
            data.expected_result,
            MAX_EXPECTED,
            _("Describe the expected result."),
            _("The expected result is longer than %(max)s characters."),
        ),
        "indicator": _text(
            errors,
            "indicator",
            data.indicator,
            MAX_INDICATOR,
            _("Give the indicator the result is checked by."),
            _("The indicator is longer than %(max)s characters."),
        ),
    }
    criteria = _criteria(errors, plan, data.criteria)
    fields["due_on"] = _due(errors, plan, data.due, state)
    if errors:
        errors = {name: errors[name] for name in FIELD_ORDER if name in errors}  # as the form shows them
        raise MeasureError(
            _("The measure is not saved: %(problems)s") % {"problems": " ".join(errors.values())}, errors
        )
    return fields, criteria


# --- the proposal ------------------------------------------------------------------------------------------------


def plan_criteria(campaign):
    return list(
        Criterion.objects.filter(mechanism__methodology_id=campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )


def final_points_of(campaign, municipality):
    """{criterion code: final points} of the municipality in the campaign (empty before its result)."""
    result = (
        Result.objects.filter(campaign=campaign, municipality=municipality).only("submission_id").order_by("pk").first()
    )
    return current_points([result.submission_id], "final")[result.submission_id] if result else {}


def default_due(today, state):
    """A due date the proposal suggests: a year from now, and no later than the day before the next collection."""
    due = today + timedelta(days=365)
    start = _collection_start(state.following)
    if start is not None:
        due = min(due, start - timedelta(days=1))
    return max(due, today)


def plan_proposal(*, campaign, municipality, by=None, today=None, state=None):
    """The measures the product proposes from the municipality's results: one per weakest criterion, titled by its
    recommendation, its expected result the evidence the methodology asks for, its indicator the criterion's points
    at the next assessment. MeasureInput rows; nothing is written."""
    today = today or timezone.localdate()
    state = state or PlanState.of(next_campaign(campaign, municipality.pk), today)
    points = final_points_of(campaign, municipality)
    responsible = (by.get_full_name() or by.username) if by else ""
    due = default_due(today, state)
    return [
        MeasureInput(
            title=c.recommendation[:MAX_TITLE],
            criteria=[c],
            responsible=responsible[:MAX_RESPONSIBLE],
            due=due,
            expected_result=(c.evidence or c.guidance)[:MAX_EXPECTED],
            indicator=_("Points of criterion %(code)s at the next assessment (now %(points)s of %(max)s).")
            % {"code": c.code, "points": points.get(c.code) or 0, "max": c.max_points},
        )
        for c in weakest_criteria(plan_criteria(campaign), points, PROPOSED)
    ]


# --- writes ------------------------------------------------------------------------------------------------------


def _may_draft(access, municipality_id, name):
    if not access.can_fill_forms(municipality_id):
        raise MeasureError(
            _("Only the organizer of %(municipality)s (or the deputy) changes its plan of measures.")
            % {"municipality": name}
        )


def _editable(plan, access, today):
    """The plan, locked and re-read, and its PlanState, or MeasureError when its measures may not change now."""
    _may_draft(access, plan.municipality_id, plan.municipality.name)
    stored = MeasurePlan.objects.locked(plan.pk)
    state = state_of(stored, today)
    if state.locked:
        raise MeasureError(state.locked)
    if not stored.is_editable:
        raise MeasureError(
            _("The plan is %(status)s: its measures can no longer be changed.")
            % {"status": stored.get_status_display()}
        )
    stored.campaign, stored.municipality = plan.campaign, plan.municipality
    return stored, state


def _create_measures(plan, rows, by, start=0):
    now = timezone.now()
    measures = []
    for n, (fields, criteria) in enumerate(rows, start=start + 1):
        measure = Measure.objects.create(plan=plan, order=n, updated_at=now, updated_by=by, **fields)
        measures.append((measure, criteria))
    Measure.criteria.through.objects.bulk_create(
        Measure.criteria.through(measure_id=m.pk, criterion_id=c.pk) for m, criteria in measures for c in criteria
    )
    return [m for m, _criteria in measures]


@transaction.atomic
def plan_start(*, campaign, municipality, by, access, proposal=True, today=None):
    """Start the municipality's plan answering its results in `campaign`: a draft with the proposed measures (or
    none). Refused before the results are published, without a final result, or once the plan would be closed."""
    _may_draft(access, municipality.pk, municipality.name)
    today = today or timezone.localdate()
    if not campaign.results_published_on(today):
        raise MeasureError(_("The plan of measures answers the results: it is drafted once they are published."))
    if not Result.objects.filter(campaign=campaign, municipality=municipality).exists():
        raise MeasureError(_("The results of %(municipality)s are not final yet.") % {"municipality": municipality})
    state = PlanState.of(next_campaign(campaign, municipality.pk), today)
    if state.locked:
        raise MeasureError(state.locked)
    plan, created = MeasurePlan.objects.get_or_create(
        campaign=campaign, municipality=municipality, defaults={"created_by": by}
    )
    if not created:
        raise MeasureError(_("The plan is already started: here it is."))
    MeasurePlanChange.objects.create(plan=plan, old="", new=S.DRAFT, by=by)
    if proposal:
        drafted = plan_proposal(campaign=campaign, municipality=municipality, by=by, today=today, state=state)
        _create_measures(plan, [measure_check(plan=plan, data=d, state=state) for d in drafted], by)
    return plan


@transaction.atomic
def measure_add(*, plan, data, by, access, today=None):
    plan, state = _editable(plan, access, today or timezone.localdate())
    held = plan.measures.filter(is_removed=False).aggregate(n=Count("pk"), last=Max("order"))
    if held["n"] >= MAX_MEASURES:
        raise MeasureError(_("A plan holds at most %(max)s measures.") % {"max": MAX_MEASURES})
    checked = measure_check(plan=plan, data=data, state=state)
    return _create_measures(plan, [checked], by, start=held["last"] or 0)[0]


def _live(plan, measure):
    found = Measure.objects.filter(pk=measure.pk, plan=plan, is_removed=False).first()
    if found is None:
        raise MeasureError(_("This measure has been removed from the plan."))
    return found


@transaction.atomic
def measure_edit(*, measure, data, by, access, today=None):
    plan, state = _editable(measure.plan, access, today or timezone.localdate())
    measure = _live(plan, measure)
    fields, criteria = measure_check(plan=plan, data=data, state=state)
    Measure.objects.filter(pk=measure.pk).update(updated_at=timezone.now(), updated_by=by, **fields)
    measure.criteria.set(criteria)
    measure.refresh_from_db()
    return measure


@transaction.atomic
def measure_remove(*, measure, by, access, today=None):
    """Hidden from the plan, never deleted: the history and the progress reports still name it."""
    plan, _state = _editable(measure.plan, access, today or timezone.localdate())
    measure = _live(plan, measure)
    now = timezone.now()
    Measure.objects.filter(pk=measure.pk).update(is_removed=True, removed_at=now, updated_at=now, updated_by=by)
    return measure


def _move(plan, sources, target, by, reason="", **fields):
    """The plan from one of `sources` to `target`, recorded; MeasureError when someone moved it first."""
    now = timezone.now()
    moved = MeasurePlan.objects.filter(pk=plan.pk, status__in=list(sources)).update(status=target, **fields)
    if not moved:
        raise MeasureError(_("Someone else has just changed this plan. Reload the page to see its state."))
    MeasurePlanChange.objects.create(plan=plan, old=plan.status, new=target, by=by, at=now, reason=reason)
    plan.status = target
    for name, value in fields.items():
        setattr(plan, name, value)
    return plan


def plan_path(plan):
    return reverse("measure_plan", args=[plan.campaign.slug, plan.municipality.code])


@transaction.atomic
def plan_submit(*, plan, by, access, today=None):
    """Send the plan to the region's coordinator: every measure is checked again (a next campaign announced since may
    have moved the latest due date)."""
    plan, state = _editable(plan, access, today or timezone.localdate())
    measures = list(plan.measures.filter(is_removed=False).prefetch_related("criteria__mechanism"))
    if not measures:
        raise MeasureError(_("Add at least one measure before submitting the plan."))
    for m in measures:
        data = MeasureInput(m.title, list(m.criteria.all()), m.responsible, m.due_on, m.expected_result, m.indicator)
        try:
            measure_check(plan=plan, data=data, state=state)
        except MeasureError as exc:
            raise MeasureError(
                _("Measure «%(title)s»: %(problems)s")
                % {"title": m.title[:80], "problems": " ".join(exc.errors.values())}
            ) from None
    _move(plan, (S.DRAFT, S.RETURNED), S.SUBMITTED, by, submitted_at=timezone.now())
    notify(
        coordinators(plan),
        Notification.Kind.SUBMITTED,
        _("%(municipality)s has submitted its plan of measures") % {"municipality": plan.municipality},
        _("%(municipality)s has submitted its plan of measures answering the results of «%(campaign)s» for approval.")
        % {"municipality": plan.municipality, "campaign": plan.campaign},
        plan_path(plan),
    )
    return plan


def _reviewable(plan, access, today):
    if not access.can_manage_region(plan.municipality.region_id):
        raise MeasureError(_("Only the coordinator of the region approves or returns its plans of measures."))
    stored = MeasurePlan.objects.locked(plan.pk)
    locked = state_of(stored, today).locked
    if locked:
        raise MeasureError(locked)
    if stored.status != S.SUBMITTED:
        raise MeasureError(
            _("The plan is %(status)s: only a submitted plan is approved or returned.")
            % {"status": stored.get_status_display()}
        )
    stored.campaign, stored.municipality = plan.campaign, plan.municipality
    return stored


@transaction.atomic
def plan_approve(*, plan, by, access, today=None):
    plan = _reviewable(plan, access, today or timezone.localdate())
    _move(plan, (S.SUBMITTED,), S.APPROVED, by, decided_at=timezone.now(), decided_by=by)
    notify(
        organizers_of([plan.municipality_id]).get(plan.municipality_id, []),
        Notification.Kind.REVIEW,
        _("Your plan of measures is approved"),
        _(
            "The plan of measures of %(municipality)s answering the results of «%(campaign)s» is approved. Report the "
            "progress of each measure on the plan's page during the year."
        )
        % {"municipality": plan.municipality, "campaign": plan.campaign},
        plan_path(plan),
    )
    return plan


@transaction.atomic
def plan_return(*, plan, by, access, reason, today=None):
    reason = plain_text(reason)
    if not reason:
        raise MeasureError(_("Please give the reason: the organizer will see it."))
    if len(reason) > MAX_REASON:
        raise MeasureError(_("The reason is longer than %(max)s characters.") % {"max": MAX_REASON})
    plan = _reviewable(plan, access, today or timezone.localdate())
    _move(plan, (S.SUBMITTED,), S.RETURNED, by, reason=reason, decided_at=timezone.now(), decided_by=by)
    notify(
        organizers_of([plan.municipality_id]).get(plan.municipality_id, []),
        Notification.Kind.RETURNED,
        _("Your plan of measures was returned for revision"),
        _("The plan of measures of %(municipality)s answering «%(campaign)s» was returned for revision:\n\n%(reason)s")
        % {"municipality": plan.municipality, "campaign": plan.campaign, "reason": reason},
        plan_path(plan),
    )
    return plan


# --- progress during the year --------------------------------------------------------------------------------------


def progress_links(text):
    """One web address per line → a clean list, or MeasureError naming the bad line: the rules of a form's links
    (collection.parse_links), at most MAX_PROGRESS_LINKS of them."""
    try:
        return parse_links(
            text,
            MAX_PROGRESS_LINKS,
            _("At most %(max)s links in one report.") % {"max": MAX_PROGRESS_LINKS},
        )
    except CollectionError as exc:
        raise MeasureError(exc.message) from None


def _file_fields(plan, upload):
    """The MeasureProgress fields of an uploaded file, checked as the form's attachments are (validate_upload), within
    the room of one form: so many files and bytes a plan."""
    try:
        name, extension = validate_upload(upload)
    except CollectionError as exc:
        raise MeasureError(exc.message) from None
    held = (
        MeasureProgress.objects.filter(measure__plan=plan).exclude(file="").aggregate(n=Count("pk"), size=Sum("size"))
    )
    if held["n"] >= settings.UPLOAD_MAX_FILES_PER_SUBMISSION or (held["size"] or 0) + upload.size > (
        settings.UPLOAD_MAX_BYTES_PER_SUBMISSION
    ):
        raise MeasureError(_("«%(name)s» is not attached: the plan holds no more files.") % {"name": name})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return {
        "original_name": name,
        "size": upload.size,
        "content_type": CONTENT_TYPES[extension],
        "sha256": digest.hexdigest(),
    }, extension


@transaction.atomic
def progress_report(*, measure, by, access, status, comment="", links_text="", upload=None, today=None):
    """Record progress on a measure of an approved, open plan: its status from now on, a comment, evidence links and
    an optional file. A measure is marked done with a word on what was done (a comment, a link or a file)."""
    _may_draft(access, measure.plan.municipality_id, measure.plan.municipality.name)
    stored = MeasurePlan.objects.locked(measure.plan_id)
    locked = state_of(stored, today or timezone.localdate()).locked
    if locked:
        raise MeasureError(locked)
    if stored.status != S.APPROVED:
        raise MeasureError(_("Progress is reported once the coordinator has approved the plan."))
    measure = _live(stored, measure)
    if status not in Measure.Status.values:
        raise MeasureError(_("Choose the measure's status."))
    comment = plain_text(comment)
    if len(comment) > MAX_COMMENT:
        raise MeasureError(_("The comment is longer than %(max)s characters.") % {"max": MAX_COMMENT})
    links = progress_links(links_text)
    if status == measure.status and not (comment or links or upload):
        raise MeasureError(_("Nothing to report: change the status, or add a comment, a link or a file."))
    if status == Measure.Status.DONE and not (comment or links or upload):
        raise MeasureError(_("Say what was done: a comment, a link or a file."))
    report = MeasureProgress(measure=measure, status=status, comment=comment, links=links, by=by)
    if upload is not None:
        fields, extension = _file_fields(stored, upload)
        for name, value in fields.items():
            setattr(report, name, value)
        report.file.save(f"{fields['sha256'][:16]}{extension}", upload, save=False)
    report.save()
    Measure.objects.filter(pk=measure.pk).update(status=status, updated_at=report.at, updated_by=by)
    measure.status = status
    return report


# --- reminders -----------------------------------------------------------------------------------------------------


def overdue_measures(plans=None, today=None):
    """The overdue measures (due date passed, neither done nor cancelled) of approved plans, with their plan."""
    today = today or timezone.localdate()
    measures = Measure.objects.filter(is_removed=False, plan__status=S.APPROVED, due_on__lt=today).exclude(
        status__in=Measure.CLOSED
    )
    if plans is not None:
        measures = measures.filter(plan__in=plans)
    return measures.select_related("plan__campaign", "plan__municipality")


@transaction.atomic
def overdue_reminders_send(*, today=None):
    """Remind the organizers (and deputies) of every open plan with overdue measures, once a day at most; returns how
    many plans were reminded. A closed plan (its next campaign collecting) is past reminding."""
    today = today or timezone.localdate()
    by_plan = {}
    for measure in overdue_measures(today=today):
        by_plan.setdefault(measure.plan, []).append(measure)
    following = next_campaigns(by_plan)
    due = {plan: items for plan, items in by_plan.items() if not lock_reason(following.get(plan.pk), today)}
    people = organizers_of([plan.municipality_id for plan in due])
    paths = {plan.pk: plan_path(plan) for plan in due}
    user_ids = [u.pk for users in people.values() for u in users]
    sent = already_today(user_ids, Notification.Kind.DEADLINE, list(paths.values()))
    reminded = 0
    for plan, items in due.items():
        users = [u for u in people.get(plan.municipality_id, []) if (u.pk, paths[plan.pk]) not in sent]
        if not users:
            continue
        notify(
            users,
            Notification.Kind.DEADLINE,
            _("Reminder: overdue measures of the plan answering «%(campaign)s»") % {"campaign": plan.campaign.title},
            _("%(municipality)s: %(titles)s. Report what was done, or move the measure on.")
            % {"municipality": plan.municipality, "titles": "; ".join(f"«{m.title[:80]}»" for m in items[:5])},
            paths[plan.pk],
        )
        reminded += 1
    return reminded

"""The assessment's part of the home page: the campaigns with their timelines, and the steps of collecting,
scoring and reviewing for each role (reports.home puts the parts together)."""

from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment.collection import progress
from assessment.holidays import campaign_summer_stages
from assessment.measure_selectors import measure_steps
from assessment.models import (
    Appeal,
    Campaign,
    CampaignStage,
    Criterion,
    Participation,
    ReviewAssignment,
    Stage,
    StatusChange,
    Submission,
)
from assessment.scope import campaigns_for
from municipalities.home import Due, Step
from municipalities.models import Appointment, Municipality, Region, Role


def visible_campaigns(access):
    campaigns = Campaign.objects.select_related("methodology").prefetch_related(
        Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on"))
    )
    campaigns = campaigns.filter(pk__in=campaigns_for(access).values("pk"))
    # Counted per campaign through the participation index: a join and COUNT(DISTINCT …) over every participation
    # of every campaign took 60 ms of a ministry's home page on the national data.
    participants = (
        Participation.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign").annotate(n=Count("pk"))
    )
    return list(campaigns.annotate(participant_count=Coalesce(Subquery(participants.values("n")), 0)))


def _date(day):
    return formats.date_format(day, "j E Y")


def _campaign_steps(access, campaigns, today):
    """What to prepare before a stage starts (the stages under way are the lead of the page)."""
    steps = []
    for campaign in campaigns:
        collection = campaign.stage_dates.get(Stage.DATA_COLLECTION)
        review = campaign.stage_dates.get(Stage.EXPERT_REVIEW)
        if access.is_organizer and collection and collection.starts_on > today:
            steps.append(
                Step(
                    _("Prepare the evidence for «%(campaign)s»") % {"campaign": campaign.title},
                    _(
                        "Data collection runs from %(start)s to %(end)s. Publish the documents on the "
                        "authority's website now, so that every criterion has a link."
                    )
                    % {"start": _date(collection.starts_on), "end": _date(collection.ends_on)},
                    reverse("methodology"),
                    "primary",
                    "calendar-event",
                )
            )
        if access.is_expert and review and review.starts_on > today:
            steps.append(
                Step(
                    _("Expert review of «%(campaign)s» starts %(date)s")
                    % {"campaign": campaign.title, "date": _date(review.starts_on)},
                    _("Until then, study the guidance on each criterion: it is what you will score against."),
                    reverse("methodology"),
                    "primary",
                    "calendar-event",
                )
            )
    return steps


def _coordinator_steps(access):
    steps = []
    missing = (
        Municipality.objects.filter(region_id__in=access.coordinated_region_ids)
        .exclude(
            pk__in=Appointment.objects.active().filter(role=Role.ORGANIZER).values("municipality_id"),
        )
        .select_related("region")
    )
    missing = list(missing)
    if missing:
        steps.append(
            Step(
                ngettext(
                    "%(n)s municipality has no organizer",
                    "%(n)s municipalities have no organizer",
                    len(missing),
                )
                % {"n": len(missing)},
                ", ".join(m.name for m in missing[:5]) + ("…" if len(missing) > 5 else ""),
                reverse("region_detail", args=[missing[0].region.code]),
                "warning",
                "person-plus",
            )
        )
    no_deputy = (
        Municipality.objects.filter(region_id__in=access.coordinated_region_ids)
        .exclude(pk__in=Appointment.objects.active().filter(role=Role.DEPUTY_ORGANIZER).values("municipality_id"))
        .count()
    )
    if no_deputy:
        steps.append(
            Step(
                ngettext(
                    "%(n)s municipality has no deputy organizer",
                    "%(n)s municipalities have no deputy organizer",
                    no_deputy,
                )
                % {"n": no_deputy},
                _("A deputy keeps the work going when the organizer is on leave: the 2020 campaign ran in summer."),
                "",
                "secondary",
                "people",
            )
        )
    return steps


def _operator_steps():
    """Regions without a regional coordinator: a step each, or one step naming them when there are many."""
    uncovered = list(
        Region.objects.exclude(
            pk__in=Appointment.objects.active().filter(role=Role.COORDINATOR).values("region_id")
        ).order_by("code")
    )
    if len(uncovered) > 3:
        return [
            Step(
                ngettext(
                    "%(n)s region has no regional coordinator",
                    "%(n)s regions have no regional coordinator",
                    len(uncovered),
                )
                % {"n": len(uncovered)},
                _names(r.name for r in uncovered),
                reverse("region_list"),
                "warning",
                "person-plus",
            )
        ]
    return [
        Step(
            _("Appoint a regional coordinator for %(region)s") % {"region": region.name},
            "",
            reverse("region_detail", args=[region.code]),
            "warning",
            "person-plus",
        )
        for region in uncovered
    ]


def _methodology_step(campaigns):
    methodology = campaigns[0].methodology if campaigns else None
    detail = (
        _("%(criteria)s criteria, %(points)s points: what to show and what evidence counts.")
        % {"criteria": methodology.criteria_count, "points": methodology.max_total}
        if methodology
        else ""
    )
    return Step(
        _("Read the methodology and the guidance on each criterion"),
        detail,
        reverse("methodology"),
        "secondary",
        "book",
    )


# --- the lead of the home page: what each role comes for, before any other step ---------------------------------

DONE = (Submission.Status.FINALIZED, Submission.Status.APPEALED)
SHOWN = 5  # municipalities named in a list of the lead; the rest are counted


def _under_way(campaign, today):
    """Data collection has started and the results are not published yet: the forms are in play."""
    collection = campaign.stage_dates.get(Stage.DATA_COLLECTION)
    return bool(collection and collection.starts_on <= today) and not campaign.results_published_on(today)


def _started(campaign, today):
    """The campaign's first stage has begun and its results are not published yet: the operator runs it."""
    first = min((p.starts_on for p in campaign.stage_dates.values()), default=None)
    return bool(first and first <= today) and not campaign.results_published_on(today)


def _progress_of(submissions, campaigns):
    """{submission id: progress} (collection.progress): two queries per methodology of `campaigns` ({id: campaign})."""
    ids = {}
    for s in submissions:
        ids.setdefault(campaigns[s.campaign_id].methodology_id, []).append(s.pk)
    found = {}
    for methodology_id, submission_ids in ids.items():
        found.update(progress(submission_ids, methodology_id))
    return found


def _due(campaign, stage, today):
    period = campaign.stage_dates.get(stage)
    return Due.of(period.ends_on if period else None, today)


@dataclass
class FormCard:
    """An organizer's form in a campaign under way: what is filled, what the coordinator asked to correct, the
    deadline."""

    campaign: object
    submission: object
    progress: dict
    due: Due
    to_correct: list = field(default_factory=list)  # criterion codes named when the form was returned
    reason: str = ""

    @property
    def municipality(self):
        return self.submission.municipality

    @property
    def url(self):
        return reverse("submission_detail", args=[self.campaign.slug, self.submission.municipality.code])

    @property
    def corrections(self):
        """[(criterion code, the address of its block in the form)] of the criteria to correct."""
        slug, code = self.campaign.slug, self.submission.municipality.code
        return [
            (c, reverse("submission_mechanism", args=[slug, code, c.rsplit(".", 1)[0]]) + f"#c-{c}")
            for c in self.to_correct
        ]

    @property
    def title(self):
        names = {"campaign": self.campaign.title}
        if self.submission.status == Submission.Status.RETURNED:
            return _("Correct the forms of «%(campaign)s»: the coordinator returned them") % names
        if self.submission.is_editable:
            return _("Fill in the primary-data forms of «%(campaign)s»") % names
        return _("The forms of «%(campaign)s» are sent") % names

    @property
    def next_line(self):
        """What happens to a sent form next."""
        status = self.submission.status
        if status == Submission.Status.SUBMITTED:
            return _(
                "The regional coordinator pre-scores them next. If something is to be corrected, they come back to "
                "you with the criteria named."
            )
        if status in (Submission.Status.PRESCORED, Submission.Status.IN_REVIEW):
            results = self.campaign.stage_dates.get(Stage.RESULTS)
            if results:
                return _("The experts check the pre-scores. The results are published from %(date)s.") % {
                    "date": _date(results.starts_on)
                }
            return _("The experts check the pre-scores.")
        return ""


def _returns(submissions):
    """{submission id: the StatusChange that last returned it}: one query (none without a returned submission)."""
    if not submissions:
        return {}
    changes = (
        StatusChange.objects.filter(submission__in=submissions, new=Submission.Status.RETURNED)
        .only("submission_id", "criteria", "reason", "at")
        .order_by("at", "pk")
    )
    return {change.submission_id: change for change in changes}


def organizer_forms(access, campaigns, today):
    """The organizer's forms in the campaigns under way, not yet final: three queries, four with a returned form
    (two more for each further methodology)."""
    live = {c.pk: c for c in campaigns if _under_way(c, today)}
    if not live or not access.organized_municipality_ids:
        return []
    submissions = list(
        Submission.objects.filter(campaign_id__in=live, municipality_id__in=access.organized_municipality_ids)
        .exclude(status__in=DONE)
        .select_related("municipality")
        .order_by("municipality__name", "campaign_id")
    )
    state = _progress_of(submissions, live)
    returns = _returns([s for s in submissions if s.status == Submission.Status.RETURNED])
    cards = []
    for s in submissions:
        s.campaign = live[s.campaign_id]
        returned = returns.get(s.pk)
        cards.append(
            FormCard(
                s.campaign,
                s,
                state[s.pk],
                Due.of(s.deadline(), today) if s.is_editable else Due(None),
                list(returned.criteria) if returned else [],
                returned.reason if returned else "",
            )
        )
    return cards


@dataclass
class RegionCard:
    """A coordinator's region in a campaign under way: who has not sent the form yet (the least filled first) and
    what waits for pre-scoring."""

    campaign: object
    region: object
    total: int
    unsent: list  # editable submissions, the least filled first
    to_prescore: list  # submitted, waiting for the coordinator
    due: Due  # the end of data collection
    prescoring_due: Due

    @property
    def sent(self):
        return self.total - len(self.unsent)

    @property
    def lagging(self):
        """Not sent and not complete: whom a reminder goes to (collection.laggards)."""
        return [s for s in self.unsent if s.progress["done"] < s.progress["total"]]

    @property
    def url(self):
        return reverse("region_progress", args=[self.campaign.slug, self.region.code])


def coordinator_regions(access, campaigns, today):
    """The coordinator's regions in the campaigns under way: three queries whatever the number of municipalities
    (two more for each further methodology)."""
    live = {c.pk: c for c in campaigns if _under_way(c, today)}
    if not live or not access.coordinated_region_ids:
        return []
    submissions = list(
        Submission.objects.filter(campaign_id__in=live, municipality__region_id__in=access.coordinated_region_ids)
        .select_related("municipality__region")
        .order_by("municipality__name")
    )
    state = _progress_of(submissions, live)
    groups = {}
    for s in submissions:
        s.campaign, s.progress = live[s.campaign_id], state[s.pk]
        groups.setdefault((s.campaign_id, s.municipality.region_id), []).append(s)
    cards = []
    for (campaign_id, _region_id), rows in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[1][0].municipality.region.code)
    ):
        campaign = live[campaign_id]
        unsent = sorted((s for s in rows if s.is_editable), key=lambda s: (s.progress["percent"], s.municipality.name))
        cards.append(
            RegionCard(
                campaign,
                rows[0].municipality.region,
                len(rows),
                unsent,
                [s for s in rows if s.status == Submission.Status.SUBMITTED],
                _due(campaign, Stage.DATA_COLLECTION, today),
                _due(campaign, Stage.PRESCORING, today),
            )
        )
    return cards


@dataclass
class QueueItem:
    """A submission assigned to the expert and not yet completed."""

    assignment: object
    due: Due
    scored: int
    criteria: int

    @property
    def submission(self):
        return self.assignment.submission

    @property
    def url(self):
        s = self.assignment.submission
        return reverse("expert_scoring", args=[s.campaign.slug, s.municipality.code])


def expert_queue(access, today):
    """The expert's open assignments, the nearest due first: two queries."""
    assignments = list(
        ReviewAssignment.objects.filter(expert_id=access.user_id, is_active=True, completed_at__isnull=True)
        .select_related("submission__campaign", "submission__municipality__region")
        .annotate(
            scored=Count(
                "submission__scores",
                filter=Q(
                    submission__scores__round="expert",
                    submission__scores__is_current=True,
                    submission__scores__by_id=access.user_id,
                ),
            )
        )
        .order_by(F("due_on").asc(nulls_last=True), "submission__municipality__name")
    )
    if not assignments:
        return []
    counts = dict(
        Criterion.objects.filter(mechanism__methodology__in={a.submission.campaign.methodology_id for a in assignments})
        .values("mechanism__methodology")
        .annotate(n=Count("pk"))
        .values_list("mechanism__methodology", "n")
    )
    return [
        QueueItem(a, Due.of(a.due_on, today), a.scored, counts.get(a.submission.campaign.methodology_id, 0))
        for a in assignments
    ]


@dataclass
class CampaignState:
    """A campaign the operator runs: the stages running now, the forms by status and what blocks it."""

    campaign: object
    running: list  # [(period, Due)]
    statuses: list  # [(status, label, n)] in the order of the workflow
    total: int
    blockers: list  # Steps

    @property
    def url(self):
        return reverse("campaign_detail", args=[self.campaign.slug])


STATUS_ORDER = [
    Submission.Status.DRAFT,
    Submission.Status.RETURNED,
    Submission.Status.SUBMITTED,
    Submission.Status.PRESCORED,
    Submission.Status.IN_REVIEW,
    Submission.Status.FINALIZED,
    Submission.Status.APPEALED,
]
CLOSING_DAYS = 7  # forms not sent are a blocker this many days before the end of data collection


def _names(items, shown=SHOWN):
    items = list(items)
    return ", ".join(items[:shown]) + ("…" if len(items) > shown else "")


def _uncovered_regions(live):
    """{campaign id: [regions taking part without a regional coordinator]}: one query."""
    coordinated = Appointment.objects.active().filter(role=Role.COORDINATOR).values("region_id")
    rows = (
        Region.objects.filter(municipalities__participations__campaign_id__in=live)
        .exclude(pk__in=coordinated)
        .values_list("municipalities__participations__campaign_id", "code", "name")
        .distinct()
        .order_by("code")
    )
    found = {}
    for campaign_id, code, name in rows:
        found.setdefault(campaign_id, []).append((code, name))
    return found


def _blockers(campaign, counts, uncovered, unorganized, waiting, appeals, today):
    steps = []
    regions = uncovered.get(campaign.pk, [])
    if regions:
        steps.append(
            Step(
                ngettext(
                    "%(n)s region has no regional coordinator",
                    "%(n)s regions have no regional coordinator",
                    len(regions),
                )
                % {"n": len(regions)},
                _names(name for _code, name in regions),
                reverse("region_detail", args=[regions[0][0]]),
                "danger",
                "person-plus",
            )
        )
    if unorganized.get(campaign.pk):
        n = unorganized[campaign.pk]
        steps.append(
            Step(
                ngettext("%(n)s municipality has no organizer", "%(n)s municipalities have no organizer", n) % {"n": n},
                _("Nobody can fill in their forms: the regional coordinators appoint the organizers."),
                reverse("people"),
                "danger",
                "person-plus",
            )
        )
    collection = campaign.stage_dates.get(Stage.DATA_COLLECTION)
    unsent = counts.get(Submission.Status.DRAFT, 0) + counts.get(Submission.Status.RETURNED, 0)
    if unsent and collection and collection.starts_on <= today and collection.days_left(today) <= CLOSING_DAYS:
        due = Due.of(collection.ends_on, today)
        steps.append(
            Step(
                ngettext("%(n)s form is not sent yet", "%(n)s forms are not sent yet", unsent) % {"n": unsent},
                _(
                    "Data collection ends %(date)s (%(due)s): the coordinators remind the laggards or extend the deadline."
                )
                % {"date": _date(collection.ends_on), "due": due.label},
                reverse("campaign_detail", args=[campaign.slug]),
                "danger" if due.days <= 3 else "warning",
                "hourglass-split",
            )
        )
    if waiting.get(campaign.pk):
        n = waiting[campaign.pk]
        steps.append(
            Step(
                ngettext(
                    "%(n)s submission waits for experts",
                    "%(n)s submissions wait for experts",
                    n,
                )
                % {"n": n},
                _("Pre-scored and not assigned to an expert: assign them by hand or automatically."),
                reverse("campaign_experts", args=[campaign.slug]),
                "warning",
                "patch-check",
            )
        )
    if appeals.get(campaign.pk):
        n = appeals[campaign.pk]
        steps.append(
            Step(
                ngettext("%(n)s appeal waits for a decision", "%(n)s appeals wait for a decision", n) % {"n": n},
                "",
                reverse("appeal_queue"),
                "warning",
                "megaphone",
            )
        )
    return steps


def operator_campaigns(campaigns, today):
    """The campaigns under way with their forms by status and what blocks each: five queries whatever the number
    of campaigns, regions and municipalities."""
    live = {c.pk: c for c in campaigns if _started(c, today)}
    if not live:
        return []
    counts = {}
    for campaign_id, status, n in (
        Submission.objects.filter(campaign_id__in=live)
        .values_list("campaign_id", "status")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "status", "n")
    ):
        counts.setdefault(campaign_id, {})[status] = n
    organized = Appointment.objects.active().filter(role=Role.ORGANIZER).values("municipality_id")
    unorganized = dict(
        Submission.objects.filter(campaign_id__in=live)
        .exclude(municipality_id__in=organized)
        .values_list("campaign_id")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "n")
    )
    waiting = dict(
        Submission.objects.filter(campaign_id__in=live, status__in=["prescored", "in_review"])
        .exclude(pk__in=ReviewAssignment.objects.filter(is_active=True).values("submission"))
        .values_list("campaign_id")
        .annotate(n=Count("pk"))
        .values_list("campaign_id", "n")
    )
    appeals = dict(
        Appeal.objects.filter(outcome="", submission__campaign_id__in=live)
        .values_list("submission__campaign_id")
        .annotate(n=Count("pk"))
        .values_list("submission__campaign_id", "n")
    )
    uncovered = _uncovered_regions(live)
    states = []
    for campaign in live.values():
        mine = counts.get(campaign.pk, {})
        states.append(
            CampaignState(
                campaign,
                [(p, Due.of(p.ends_on, today)) for p in campaign.stages.all() if p.starts_on <= today <= p.ends_on],
                [(s, s.label, mine[s]) for s in STATUS_ORDER if mine.get(s)],
                sum(mine.values()),
                _blockers(campaign, mine, uncovered, unorganized, waiting, appeals, today),
            )
        )
    return states


@dataclass
class AssessmentHome:
    """The assessment's part of the home page; reports.home orders the steps of every part."""

    campaigns: list
    first: list = field(default_factory=list)  # before every other step
    campaign_steps: list = field(default_factory=list)
    role_steps: list = field(default_factory=list)
    last: list = field(default_factory=list)  # after every other step
    # The lead of the page, each role's main job: the organizer's forms, the coordinator's regions, the expert's
    # queue, the campaigns the operator runs.
    forms: list = field(default_factory=list)
    regions: list = field(default_factory=list)
    queue: list = field(default_factory=list)
    operations: list = field(default_factory=list)


def _summer(access, campaign, today):
    """The campaign's collection and survey stages still to run in July–August, for the people who can arrange
    deputies and extensions (the operator, the coordinators), with the regions whose progress pages they use."""
    if not (access.is_operator or access.is_coordinator):
        return [], []
    stages = campaign_summer_stages(campaign, until_over_on=today)
    if not stages:
        return [], []
    regions = Region.objects.filter(municipalities__participations__campaign=campaign).distinct().order_by("code")
    if not access.is_operator:
        regions = regions.filter(pk__in=access.coordinated_region_ids)
    return stages, list(regions)


def assessment_home(access, today):
    campaigns = visible_campaigns(access)
    for campaign in campaigns:
        campaign.timeline = [
            {"period": p, "current": p.starts_on <= today <= p.ends_on, "past": p.ends_on < today}
            for p in campaign.stages.all()
        ]
        campaign.running = [t["period"] for t in campaign.timeline if t["current"]]
        campaign.summer, campaign.summer_regions = _summer(access, campaign, today)
    home = AssessmentHome(campaigns, campaign_steps=_campaign_steps(access, campaigns, today))
    home.campaign_steps += measure_steps(access, today)  # plans of measures: drafting, approving, overdue
    if access.is_expert:
        home.queue = expert_queue(access, today)
    if access.is_operator:
        home.operations = operator_campaigns(campaigns, today)
        home.role_steps += _operator_steps()
    if access.is_coordinator:
        home.regions = coordinator_regions(access, campaigns, today)
        home.role_steps += _coordinator_steps(access)
    if access.is_organizer:
        home.forms = organizer_forms(access, campaigns, today)
        home.role_steps.append(_methodology_step(campaigns))
    return home

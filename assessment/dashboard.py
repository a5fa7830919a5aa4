"""The assessment's part of the home page: the campaigns with their timelines, and the steps of collecting,
scoring and reviewing for each role (reports.home puts the parts together)."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment.holidays import campaign_summer_stages
from assessment.measure_selectors import measure_steps
from assessment.models import Campaign, CampaignStage, ReviewAssignment, Stage
from assessment.scope import campaigns_for
from municipalities.home import Step
from municipalities.models import Appointment, Municipality, Region, Role


def visible_campaigns(access):
    campaigns = Campaign.objects.select_related("methodology").prefetch_related(
        Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on"))
    )
    campaigns = campaigns.filter(pk__in=campaigns_for(access).values("pk"))
    return list(campaigns.annotate(participant_count=Count("participations", distinct=True)))


def _date(day):
    return formats.date_format(day, "j E Y")


def _organizer_form_url(access, campaign):
    municipality = (
        Municipality.objects.filter(pk__in=access.organized_municipality_ids, participations__campaign=campaign)
        .order_by("name")
        .first()
    )
    return reverse("submission_detail", args=[campaign.slug, municipality.code]) if municipality else ""


def _campaign_steps(access, campaigns, today):
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
        if access.is_coordinator and collection and collection.starts_on <= today <= collection.ends_on:
            for region_id in sorted(access.coordinated_region_ids):
                region = Region.objects.get(pk=region_id)
                steps.append(
                    Step(
                        _("Follow the data collection of «%(campaign)s»") % {"campaign": campaign.title},
                        _("Progress, evidence and broken links of every municipality; remind the laggards."),
                        reverse("region_progress", args=[campaign.slug, region.code]),
                        "primary",
                        "clipboard-data",
                    )
                )
        if access.is_organizer and collection and collection.starts_on <= today <= collection.ends_on:
            days = collection.days_left(today)
            steps.append(
                Step(
                    _("Fill in the primary-data forms of «%(campaign)s»") % {"campaign": campaign.title},
                    ngettext("Deadline %(date)s: %(days)s day left.", "Deadline %(date)s: %(days)s days left.", days)
                    % {"date": _date(collection.ends_on), "days": days},
                    _organizer_form_url(access, campaign),
                    "danger" if days <= 3 else "warning" if days <= 10 else "primary",
                    "pencil-square",
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
    steps = []
    uncovered = Region.objects.exclude(
        pk__in=Appointment.objects.active().filter(role=Role.COORDINATOR).values("region_id")
    )
    for region in uncovered:
        steps.append(
            Step(
                _("Appoint a regional coordinator for %(region)s") % {"region": region.name},
                "",
                reverse("region_detail", args=[region.code]),
                "warning",
                "person-plus",
            )
        )
    return steps


def _expert_steps(access):
    todo = ReviewAssignment.objects.filter(expert_id=access.user_id, is_active=True, completed_at__isnull=True).count()
    if not todo:
        return []
    return [
        Step(
            ngettext("%(n)s submission to review", "%(n)s submissions to review", todo) % {"n": todo},
            _("Confirm or change each pre-score; a change needs a reason."),
            reverse("expert_queue"),
            "warning",
            "patch-check",
        )
    ]


def _waiting_for_experts_steps(campaigns):
    steps = []
    for campaign in campaigns:
        waiting = (
            campaign.submissions.filter(status__in=["prescored", "in_review"])
            .exclude(pk__in=ReviewAssignment.objects.filter(is_active=True).values("submission"))
            .count()
        )
        if waiting:
            steps.append(
                Step(
                    ngettext(
                        "%(n)s submission waits for experts in «%(campaign)s»",
                        "%(n)s submissions wait for experts in «%(campaign)s»",
                        waiting,
                    )
                    % {"n": waiting, "campaign": campaign.title},
                    "",
                    reverse("campaign_experts", args=[campaign.slug]),
                    "warning",
                    "patch-check",
                )
            )
    return steps


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


@dataclass
class AssessmentHome:
    """The assessment's part of the home page; reports.home orders the steps of every part."""

    campaigns: list
    first: list = field(default_factory=list)  # before every other step: an expert's queue
    campaign_steps: list = field(default_factory=list)
    role_steps: list = field(default_factory=list)
    last: list = field(default_factory=list)  # after every other step: what waits for experts


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
        home.first = _expert_steps(access)
    if access.is_operator:
        home.role_steps += _operator_steps()
        home.last = _waiting_for_experts_steps(campaigns)
    if access.is_coordinator:
        home.role_steps += _coordinator_steps(access)
    if access.is_organizer:
        home.role_steps.append(_methodology_step(campaigns))
    return home

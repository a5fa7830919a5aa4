"""The home page: for each role, what to do next. Later capabilities add their steps here."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment.models import Campaign, CampaignStage, ReviewAssignment, Stage
from assessment.scope import campaigns_for
from municipalities.models import (
    MUNICIPAL_ROLES,
    Appointment,
    Municipality,
    Region,
    Role,
)


@dataclass(frozen=True)
class Step:
    title: str
    detail: str = ""
    url: str = ""
    tone: str = "primary"  # Bootstrap contextual colour: danger, warning, primary, success
    icon: str = "arrow-right-circle"


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


def dashboard_for(access, today):
    campaigns = visible_campaigns(access)
    for campaign in campaigns:
        campaign.timeline = [
            {"period": p, "current": p.starts_on <= today <= p.ends_on, "past": p.ends_on < today}
            for p in campaign.stages.all()
        ]
        campaign.running = [t["period"] for t in campaign.timeline if t["current"]]
    steps = _campaign_steps(access, campaigns, today)
    from surveys.dashboard import survey_dashboard

    survey_steps, survey_cards = survey_dashboard(access, campaigns, today)
    steps += survey_steps
    from reports.dashboard import results_steps

    steps += results_steps(access, campaigns)
    from surveys.models import Respondent

    context = {
        "campaigns": campaigns,
        "today": today,
        "survey_cards": survey_cards,
        "respondent_roles": Respondent.choices,
    }
    if access.is_operator:
        steps += _operator_steps()
        context["counts"] = {
            "regions": Region.objects.count(),
            "municipalities": Municipality.objects.count(),
            "schools": Municipality.objects.aggregate(n=Count("schools", filter=Q(schools__is_active=True)))["n"],
            "people": Appointment.objects.active().values("user").distinct().count(),
        }
    if access.is_coordinator:
        steps += _coordinator_steps(access)
        context["coordinated_regions"] = (
            Region.objects.filter(pk__in=access.coordinated_region_ids)
            .annotate(
                municipality_count=Count("municipalities", distinct=True),
                school_count=Count(
                    "municipalities__schools",
                    filter=Q(municipalities__schools__is_active=True),
                ),
            )
            .order_by("code")
        )
        context["region_municipalities"] = (
            Municipality.objects.filter(region_id__in=access.coordinated_region_ids)
            .annotate(school_count=Count("schools", filter=Q(schools__is_active=True)))
            .prefetch_related(
                Prefetch(
                    "appointments",
                    queryset=Appointment.objects.active()
                    .filter(role__in=list(MUNICIPAL_ROLES))
                    .select_related("user")
                    .order_by("-role"),
                    to_attr="organizers",
                )
            )
            .in_display_order()
        )
    if access.is_organizer:
        municipalities = Municipality.objects.filter(pk__in=access.organized_municipality_ids).select_related("region")
        coordinators = Appointment.objects.active().filter(
            role=Role.COORDINATOR, region__in=[m.region_id for m in municipalities]
        )
        context["my_municipalities"] = municipalities
        context["my_coordinators"] = coordinators.select_related("user", "region")
        steps.append(
            Step(
                _("Read the methodology and the guidance on each criterion"),
                _("81 criteria, 555 points: what to show and what evidence counts."),
                reverse("methodology"),
                "secondary",
                "book",
            )
        )
    if access.is_expert:
        context["expert_regions"] = Region.objects.filter(pk__in=access.expert_home_region_ids)
        todo = ReviewAssignment.objects.filter(
            expert_id=access.user_id, is_active=True, completed_at__isnull=True
        ).count()
        if todo:
            steps.insert(
                0,
                Step(
                    ngettext("%(n)s submission to review", "%(n)s submissions to review", todo) % {"n": todo},
                    _("Confirm or change each pre-score; a change needs a reason."),
                    reverse("expert_queue"),
                    "warning",
                    "patch-check",
                ),
            )
    if access.is_operator:
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
    if access.is_ministry or access.is_operator:
        context["national_regions"] = Region.objects.annotate(
            municipality_count=Count("municipalities", distinct=True),
            participant_count=Count("municipalities__participations", distinct=True),
            school_count=Count("municipalities__schools", distinct=True),
        ).order_by("code")
    context["steps"] = steps
    return context

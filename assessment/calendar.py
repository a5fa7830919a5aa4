"""The events of the product's calendars (their format is municipalities.ical): a campaign's stages, for everyone
who takes part in it, and a person's own deadlines, for the secret feed their calendar app subscribes to.

A person's deadlines are read from their appointments as they stand at each fetch (`access_for` of the feed's
user, never a stored list), so an organizer removed from a municipality gets an empty calendar at the next fetch:
- organizer (and deputy): the forms of each campaign of the municipality (the deadline, extended when an
  extension was granted), the appeal window, and the measures of its plans still open;
- regional coordinator: for each campaign with municipalities of the region, the forms deadline, the school
  surveys and the pre-scoring;
- expert: each review assigned and not completed, due on its own date or at the end of the expert review;
- operator and ministry: the stages of every campaign, as the campaign calendar has them.

UIDs are stable (the campaign's slug, what the event is about, @ the site's host), so that a calendar app updates
an event when a date moves instead of adding a second one."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _

from assessment.models import Campaign, CampaignStage, Measure, Participation, ReviewAssignment, Stage, Submission
from assessment.scope import campaigns_for
from municipalities.access import access_for
from municipalities.ical import Event
from municipalities.models import Role

ORDERED_STAGES = Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on", "pk"))
# What a coordinator's calendar holds of each campaign of the region: (stage, the deadline only or the whole period).
COORDINATOR_STAGES = ((Stage.DATA_COLLECTION, True), (Stage.SURVEYS, False), (Stage.PRESCORING, False))


def _host():
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _link(name, *args):
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


def _day(day):
    return day.strftime("%d.%m.%Y")


def stage_events(campaign):
    """Every dated stage of the campaign (its `stages` ordered), with the title its documents give it."""
    host, url = _host(), _link("campaign_detail", campaign.slug)
    return [
        Event(
            uid=f"{campaign.slug}-{period.stage}@{host}",
            summary=_("%(stage)s — %(campaign)s") % {"stage": period.display_title, "campaign": campaign.title},
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            description=_("A stage of the campaign «%(campaign)s»: %(starts)s – %(ends)s.")
            % {"campaign": campaign.title, "starts": _day(period.starts_on), "ends": _day(period.ends_on)},
            url=url,
        )
        for period in campaign.stages.all()
    ]


def _organizer_events(access, host):
    submissions = (
        Submission.objects.filter(
            municipality_id__in=access.organized_municipality_ids, campaign__in=campaigns_for(access)
        )
        .select_related("municipality", "campaign")
        .prefetch_related(Prefetch("campaign__stages"))
        .order_by("campaign__slug", "municipality__name")
    )
    events = []
    for s in submissions:
        campaign, municipality = s.campaign, s.municipality
        url = _link("submission_detail", campaign.slug, municipality.code)
        about = {"municipality": municipality.name, "campaign": campaign.title}
        deadline = s.deadline()
        if deadline:
            description = _("Campaign «%(campaign)s». Status of the forms: %(status)s.") % {
                **about,
                "status": s.get_status_display(),
            }
            if deadline == s.deadline_extended_to:
                description += " " + _("The deadline is extended to %(date)s.") % {"date": _day(deadline)}
            events.append(
                Event(
                    uid=f"{campaign.slug}-{municipality.code}-forms-due@{host}",
                    summary=_("Forms due: %(municipality)s") % about,
                    starts_on=deadline,
                    ends_on=deadline,
                    description=description,
                    url=url,
                )
            )
        appeals = campaign.stage_dates.get(Stage.APPEALS)
        if appeals:
            events.append(
                Event(
                    uid=f"{campaign.slug}-{municipality.code}-appeals@{host}",
                    summary=_("Appeals: %(municipality)s") % about,
                    starts_on=appeals.starts_on,
                    ends_on=appeals.ends_on,
                    description=_("Appeals against the final points of the campaign «%(campaign)s» are accepted.")
                    % about,
                    url=url,
                )
            )
    return events


def _measure_events(access, host):
    measures = (
        Measure.objects.filter(plan__municipality_id__in=access.organized_municipality_ids, is_removed=False)
        .exclude(status__in=Measure.CLOSED)
        .select_related("plan__municipality", "plan__campaign")
        .order_by("due_on", "pk")
    )
    return [
        Event(
            uid=f"{m.plan.campaign.slug}-{m.plan.municipality.code}-measure-{m.pk}@{host}",
            summary=_("Measure due: %(title)s") % {"title": m.title},
            starts_on=m.due_on,
            ends_on=m.due_on,
            description=_(
                "%(municipality)s, the plan of measures after the campaign «%(campaign)s». Responsible: "
                "%(responsible)s."
            )
            % {
                "municipality": m.plan.municipality.name,
                "campaign": m.plan.campaign.title,
                "responsible": m.responsible,
            },
            url=_link("measure_plan", m.plan.campaign.slug, m.plan.municipality.code),
        )
        for m in measures
    ]


def _coordinator_events(access, host):
    regions = {a.region_id: a.region for a in access.appointments if a.role == Role.COORDINATOR and a.region_id}
    pairs = set(
        Participation.objects.filter(municipality__region_id__in=regions).values_list(
            "campaign_id", "municipality__region_id"
        )
    )
    campaigns = Campaign.objects.filter(pk__in={c for c, _r in pairs}).prefetch_related(ORDERED_STAGES)
    events = []
    for campaign in campaigns.order_by("-year", "slug"):
        for region_id in sorted((r for c, r in pairs if c == campaign.pk), key=lambda r: regions[r].code):
            region = regions[region_id]
            url = _link("region_progress", campaign.slug, region.code)
            for stage, deadline_only in COORDINATOR_STAGES:
                period = campaign.stage_dates.get(stage)
                if period is None:
                    continue
                events.append(
                    Event(
                        uid=f"{campaign.slug}-{stage}-{region.code}@{host}",
                        summary=(_("Forms due in the region: %(region)s") if deadline_only else "%(stage)s: %(region)s")
                        % {"region": region.name, "stage": period.display_title},
                        starts_on=period.ends_on if deadline_only else period.starts_on,
                        ends_on=period.ends_on,
                        description=_("Campaign «%(campaign)s».") % {"campaign": campaign.title},
                        url=url,
                    )
                )
    return events


def _expert_events(user, host):
    assignments = (
        ReviewAssignment.objects.filter(expert=user, is_active=True, completed_at__isnull=True)
        .exclude(submission__status__in=[Submission.Status.FINALIZED, Submission.Status.APPEALED])
        .select_related("submission__municipality", "submission__campaign")
        .prefetch_related("submission__campaign__stages")
        .order_by("due_on", "pk")
    )
    events = []
    for a in assignments:
        campaign, municipality = a.submission.campaign, a.submission.municipality
        review = campaign.stage_dates.get(Stage.EXPERT_REVIEW)
        due = a.due_on or (review.ends_on if review else None)
        if due is None:
            continue
        events.append(
            Event(
                uid=f"{campaign.slug}-{municipality.code}-review@{host}",
                summary=_("Review due: %(municipality)s") % {"municipality": municipality.name},
                starts_on=due,
                ends_on=due,
                description=_("Campaign «%(campaign)s».") % {"campaign": campaign.title},
                url=_link("expert_scoring", campaign.slug, municipality.code),
            )
        )
    return events


def personal_events(user):
    """The deadlines `user` has today, by every appointment they hold now (see the module's docstring)."""
    access = access_for(user)
    host = _host()
    events = []
    if access.organized_municipality_ids:
        events += _organizer_events(access, host) + _measure_events(access, host)
    if access.coordinated_region_ids:
        events += _coordinator_events(access, host)
    if access.is_expert:
        events += _expert_events(user, host)
    if access.is_national:
        for campaign in Campaign.objects.prefetch_related(ORDERED_STAGES).order_by("-year", "slug"):
            events += stage_events(campaign)
    unique = {e.uid: e for e in events}  # one person may hold two roles over the same thing
    return sorted(unique.values(), key=lambda e: (e.starts_on, e.ends_on, e.summary))

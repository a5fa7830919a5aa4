"""The results' part of the dashboards: where to look once results exist."""

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import Result, Stage
from municipalities.home import Step


def results_steps(access, campaigns):
    counts = dict(
        Result.objects.filter(campaign__in=[c.pk for c in campaigns]).values_list("campaign").annotate(n=Count("pk"))
    )
    steps = []
    today = timezone.localdate()
    for campaign in campaigns:
        if not counts.get(campaign.pk) or not access.may_see_results(campaign):
            continue
        period = campaign.stage_dates.get(Stage.RESULTS)
        if period and today > period.ends_on:
            continue  # long published: the campaign's page still links to them
        if access.is_national:
            steps.append(
                Step(
                    _("Results of «%(campaign)s»") % {"campaign": campaign.title},
                    _("Regions and municipalities compared, levels by region, regional reports.")
                    if campaign.results_published
                    else _("Not published yet: only the operator and the ministry see them."),
                    reverse("ministry_dashboard", args=[campaign.slug]),
                    "success",
                    "trophy",
                )
            )
        else:
            mine = access.municipalities().filter(results__campaign=campaign).order_by("name").first()
            url = reverse("scorecard", args=[campaign.slug, mine.code]) if mine and access.is_organizer else ""
            steps.append(
                Step(
                    _("Results of «%(campaign)s» are published") % {"campaign": campaign.title},
                    _("Your scorecard: points, the gap to the next level, recommendations and the what-if.")
                    if url
                    else _("The ranking of the municipalities and the regional reports."),
                    url or reverse("ranking", args=[campaign.slug]),
                    "success",
                    "trophy",
                )
            )
    return steps

"""The results' part of the dashboards: where to look once results exist, and for the ministry, whose main job is
to look at rankings, the latest published results themselves at the top of the home page."""

from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from assessment.models import Result, Stage
from municipalities.home import Step
from reports import results

TOP = 5  # municipalities at the top and at the bottom of the ranking
MOVERS = 3  # the largest gains and losses since the previous campaign
REGIONS_SHOWN = 10  # regions in the table before «all regions»


@dataclass
class ResultsLead:
    """The latest published results in brief: levels by region, the top and the bottom of the ranking, what changed
    since the previous campaign (when there is one)."""

    campaign: object
    regions: list  # results.RegionRow, ranked, each with `before` (the previous campaign's row) or None
    levels: dict  # {level: municipalities at it} over the whole ranking
    top: list
    bottom: list
    labels: dict
    succession: object = None
    gains: list = field(default_factory=list)
    losses: list = field(default_factory=list)

    @property
    def count(self):
        return sum(self.levels.values())

    @property
    def shown_regions(self):
        return self.regions[:REGIONS_SHOWN]

    @property
    def more_regions(self):
        return self.regions[REGIONS_SHOWN:]

    @property
    def level_rows(self):
        """[(level, label, n, percent)] over the whole ranking, in the order of the levels."""
        total = self.count or 1
        return [(code, self.labels.get(code, code), n, round(100 * n / total)) for code, n in self.levels.items()]


def _latest_published(access, campaigns, counts, today):
    """The campaign whose results were published last among those the user may see."""
    published = [
        c for c in campaigns if counts.get(c.pk) and c.results_published_on(today) and access.may_see_results(c)
    ]
    return max(published, key=lambda c: (c.stage_dates[Stage.RESULTS].starts_on, c.year), default=None)


def results_lead(access, campaign, succession):
    """The ResultsLead of the campaign compared as `succession` says: a fixed number of queries whatever the number
    of municipalities."""
    regions = results.region_ranking_compared(campaign, succession)
    levels = dict.fromkeys(results.LEVELS, 0)
    for row in regions:
        for code, n in row.levels.items():
            levels[code] = levels.get(code, 0) + n
    ordered = results.ranking(campaign)
    gains, losses = results.movers(campaign, succession, limit=MOVERS)
    return ResultsLead(
        campaign,
        regions,
        levels,
        list(ordered[:TOP]),
        list(ordered.order_by("-rank_country", "municipality__name")[:TOP]),
        results.level_labels(campaign),
        succession,
        gains,
        losses,
    )


class LeadSlot:
    """The ministry's lead on the home page, computed only when its fragment is not in the cache: `key` names the
    fragment and changes with the results of the campaign and of the one it is compared with, with its title and
    with the language. The same for every national viewer: 2,400 results read and 89 regions rendered once per results
    version, not on every visit of the home page."""

    def __init__(self, access, campaign):
        self.access, self.campaign = access, campaign
        self.succession = results.succession_for(access, campaign)
        self.key = results.fragment_key(campaign, self.succession)

    @cached_property
    def lead(self):
        return results_lead(self.access, self.campaign, self.succession)


def results_home(access, campaigns):
    """(steps, lead): where to look at results; for the ministry the lead is the latest published results (a
    LeadSlot)."""
    counts = dict(
        Result.objects.filter(campaign__in=[c.pk for c in campaigns]).values_list("campaign").annotate(n=Count("pk"))
    )
    today = timezone.localdate()
    latest = _latest_published(access, campaigns, counts, today) if access.is_ministry else None
    lead = LeadSlot(access, latest) if latest else None
    steps = []
    for campaign in campaigns:
        if not counts.get(campaign.pk) or not access.may_see_results(campaign) or campaign == latest:
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
    return steps, lead

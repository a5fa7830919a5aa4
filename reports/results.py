"""Read side of the results: a campaign's results for a viewer (who may see them is Access.may_see_results),
rankings of municipalities and regions, the data of a municipal scorecard. A fixed number of queries whatever
the number of municipalities."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessment import dynamics, scoring
from assessment.models import Campaign, CampaignStage, Criterion, LevelBand, Mechanism, Result
from assessment.results import current_points, specs_for
from assessment.scope import submissions_for
from municipalities.access import Access
from municipalities.models import Municipality, Region

LEVELS = scoring.LEVELS
# Who sees what a report made once for everyone shows: any signed-in user, i.e. published results only.
EVERY_SIGNED_IN = Access(user_id=0)


def results_version(campaign):
    """Changes whenever the results of the campaign are recomputed (finalization, an appeal decided): the key
    of everything cached about them (Campaign.results_version, replaced by results_compute)."""
    return campaign.results_version


def _stages(campaigns):
    """Fill in the stages of `campaigns` (as prefetch_related would) in one plain query for all of them: it runs
    for every results page and API call."""
    ids = [c.pk for c in campaigns]
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT campaign_id, id, stage, title, starts_on, ends_on FROM {CampaignStage._meta.db_table}
            WHERE campaign_id IN ({marks}) ORDER BY campaign_id, starts_on, id""",
            ids,
        )
        rows = cursor.fetchall()
    by_id = {c.pk: c for c in campaigns}
    stages = {pk: [] for pk in by_id}
    for campaign_id, stage_id, stage, title, starts_on, ends_on in rows:
        stages[campaign_id].append(
            CampaignStage(
                id=stage_id,
                campaign=by_id[campaign_id],
                stage=stage,
                title=title,
                starts_on=_date(starts_on),
                ends_on=_date(ends_on),
            )
        )
    for pk, campaign in by_id.items():
        queryset = campaign.stages.all()
        queryset._result_cache, queryset._prefetch_done = stages[pk], True
        campaign._prefetched_objects_cache = {**getattr(campaign, "_prefetched_objects_cache", {}), "stages": queryset}


def _date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def campaign_results_for(access, slug):
    """The campaign whose results the user may see, or a 404 (the same as a campaign that does not exist). Two
    queries: the campaign with its methodology and the campaign it follows (their results versions are
    columns of theirs); the stages of both."""
    campaign = get_object_or_404(Campaign.objects.select_related("methodology", "previous"), slug=slug)
    _stages([c for c in (campaign, campaign.previous) if c is not None])
    if not access.may_see_results(campaign):
        raise Http404
    return campaign


def scorecard_municipality(access, campaign, code):
    """The municipality of a scorecard: national roles see any; others only what their scope holds."""
    if access.is_national:
        municipalities = Municipality.objects.all()
    else:
        municipalities = Municipality.objects.filter(
            pk__in=submissions_for(access).filter(campaign=campaign).values("municipality_id")
        )
    return get_object_or_404(municipalities.select_related("region"), code=code)


def scorecard_municipality_ids(access, campaign):
    """The ids of the municipalities whose scorecards the viewer may open (scorecard_municipality), None for every
    one: a ranking links a row to its scorecard only then. No query for the national roles, one otherwise."""
    if access.is_national:
        return None
    return frozenset(submissions_for(access).filter(campaign=campaign).values_list("municipality_id", flat=True))


def level_labels(campaign):
    bands = campaign.methodology.level_bands.order_by("min_share")  # lowest first, without joining the methodology
    return {b.code: b.get_code_display() for b in bands} or dict(LevelBand.Level.choices)


def mechanisms_of(campaign):
    return list(Mechanism.objects.filter(methodology_id=campaign.methodology_id).order_by("order"))


@dataclass
class Filters:
    region: str = ""
    level: str = ""
    kind: str = ""
    q: str = ""
    sort: str = "rank"
    change: str = ""  # improved, worsened, level_up, level_down: against the previous campaign

    def __post_init__(self):
        # A NUL means nothing in a code or a search, and PostgreSQL refuses it in a query: a 500 otherwise.
        for name in ("region", "level", "kind", "q", "sort", "change"):
            setattr(self, name, getattr(self, name).replace("\x00", ""))

    SORTS = {
        "rank": ("rank_country", "municipality__name"),
        "-rank": ("-rank_country", "municipality__name"),
        "name": ("municipality__name",),
        "-name": ("-municipality__name",),
        "region": ("municipality__region__code", "rank_region"),
        "total": ("-total", "municipality__name"),
    }

    def errors(self, campaign):
        found = []
        if self.level and self.level not in LEVELS:
            found.append(_("Unknown level «%(value)s».") % {"value": self.level})
        if self.kind and self.kind not in Municipality.Kind.values:
            found.append(_("Unknown kind of municipality «%(value)s».") % {"value": self.kind})
        if self.sort not in self.SORTS:
            found.append(_("Unknown sort order «%(value)s».") % {"value": self.sort})
        if len(self.q) > 100:
            found.append(_("The search text is too long."))
        if self.change and self.change not in dynamics.CHANGE_FILTERS:
            found.append(_("Unknown change «%(value)s».") % {"value": self.change})
        return found


def succession_for(access, campaign):
    """The campaign's succession as the viewer may see it (dynamics.succession_of), or None."""
    return dynamics.succession_of(campaign, access)


def succession_key(succession):
    """Changes with the previous campaign's results and with the pairs of criteria compared: part of the key of
    everything cached about a comparison."""
    if succession is None:
        return "-"
    previous = succession.previous
    return f"{previous.pk}:{results_version(previous)}:{succession.correspondence.fingerprint()}"


def fragment_key(campaign, succession):
    """The key of a page's part that shows the campaign's results as compared by `succession`: it changes with
    those results, with the campaign's title and with the language."""
    return f"{campaign.pk}:{results_version(campaign)}:{succession_key(succession)}:{get_language()}:{campaign.title}"


def ranking(campaign, filters=None, succession=None):
    """Result rows of a campaign with municipality and region, filtered and sorted. With a region, the rank
    shown is the rank in the region; otherwise the national one. A filter by change compares with the previous
    campaign of `succession`: without one (or one the viewer may not see) nothing has changed, no row passes."""
    filters = filters or Filters()
    rows = Result.objects.filter(campaign=campaign).select_related("municipality__region")
    if filters.region:
        rows = rows.filter(municipality__region__code=filters.region)
    if filters.level:
        rows = rows.filter(level=filters.level)
    if filters.kind:
        rows = rows.filter(municipality__kind=filters.kind)
    if filters.q:
        rows = rows.filter(Q(municipality__name__icontains=filters.q) | Q(municipality__code__icontains=filters.q))
    if filters.change in dynamics.CHANGE_FILTERS:
        rows = _changed(rows, filters, succession)
    order = Filters.SORTS.get(filters.sort, Filters.SORTS["rank"])
    if filters.region and filters.sort in ("rank", "-rank"):
        order = ("rank_region" if filters.sort == "rank" else "-rank_region", "municipality__name")
    return rows.order_by(*order)


def _changed(rows, filters, succession):
    """The rows whose change from the previous campaign passes the filter: the change of every row is computed
    in bulk (dynamics.changes, a fixed number of queries), the rows are then narrowed in the database."""
    if succession is None:
        return rows.none()
    current = dynamics.standings_of(rows)
    test = dynamics.CHANGE_FILTERS[filters.change]
    found = dynamics.changes(succession, current, regional=bool(filters.region))
    return rows.filter(municipality_id__in=[mid for mid, (_was, change) in found.items() if change and test(change)])


def movers(campaign, succession, limit=10):
    """(the municipalities that gained most since the previous campaign, those that lost most): Result rows with
    `previous` and `change`, largest first. A fixed number of queries whatever the number of municipalities."""
    if succession is None:
        return [], []
    found = dynamics.changes(succession, dynamics.standings(campaign))
    up, down = dynamics.movers({mid: change for mid, (_was, change) in found.items()}, limit)
    chosen = {
        r.municipality_id: r
        for r in Result.objects.filter(campaign=campaign, municipality_id__in=up + down).select_related(
            "municipality__region"
        )
    }
    for mid, r in chosen.items():
        r.previous, r.change = found[mid]
    return [chosen[mid] for mid in up], [chosen[mid] for mid in down]


def with_changes(rows, succession, *, regional=False):
    """The Result rows as a list, each with `previous` (its Standing in the previous campaign) and `change` (a
    dynamics.Change), both None without a previous campaign or when the municipality was not in it."""
    rows = list(rows)
    found = {}
    if succession is not None and rows:
        found = dynamics.changes(
            succession, {r.municipality_id: dynamics.Standing.of(r) for r in rows}, regional=regional
        )
    for r in rows:
        r.previous, r.change = found.get(r.municipality_id, (None, None))
    return rows


def row_dict(result, labels, *, regional=False):
    """A ranking row as the API and the exports give it (a public interface, documented at /api/v1/). The
    previous total and the change are those `with_changes` attached (null without)."""
    m = result.municipality
    previous, change = getattr(result, "previous", None), getattr(result, "change", None)
    return {
        "rank": result.rank_region if regional else result.rank_country,
        "municipality": {"code": m.code, "name": m.name},
        "region": {"code": m.region.code, "name": m.region.name},
        "total": result.total,
        "max_total": result.max_total,
        "share": float(result.share),
        "level": result.level,
        "level_label": str(labels.get(result.level, result.level)),
        "mechanisms": {code: entry["points"] for code, entry in result.mechanisms.items()},
        "previous_total": previous.total if previous else None,
        "change": change.as_dict() if change else None,
    }


@dataclass
class RegionRow:
    region: object
    count: int = 0
    mean_share: Decimal = Decimal(0)
    levels: dict = field(default_factory=dict)
    rank: int = 0
    before: object = None  # the region's RegionRow in the previous campaign (region_ranking_compared)

    def level_shares(self):
        return [(code, n, n / self.count if self.count else 0) for code, n in self.levels.items()]

    @property
    def share_change(self):
        return None if self.before is None else self.mean_share - self.before.mean_share

    @property
    def rank_change(self):
        """Places gained among the regions (positive: up)."""
        return None if self.before is None else self.before.rank - self.rank


def region_ranking(campaign):
    """Regions ranked by the mean share of their municipalities (competition ranking), with the number of
    municipalities at each level."""
    rows = {}
    for region_id, level, n, share_sum in (
        Result.objects.filter(campaign=campaign)
        .values("municipality__region_id", "level")
        .annotate(n=Count("pk"), share_sum=Sum("share"))
        .values_list("municipality__region_id", "level", "n", "share_sum")
    ):
        row = rows.setdefault(region_id, RegionRow(None, levels=dict.fromkeys(LEVELS, 0)))
        row.levels[level] = n
        row.count += n
        row.mean_share += Decimal(share_sum)
    regions = Region.objects.in_bulk(list(rows))
    result = []
    for region_id, row in rows.items():
        row.region = regions[region_id]
        row.mean_share = (row.mean_share / row.count).quantize(Decimal("0.0001")) if row.count else Decimal(0)
        result.append(row)
    ranks = scoring.competition_ranks([r.mean_share for r in result])
    for row, rank in zip(result, ranks, strict=True):
        row.rank = rank
    return sorted(result, key=lambda r: (r.rank, r.region.code))


def region_ranking_compared(campaign, succession):
    """The regions' ranking, each row with `before`: the region's row in the previous campaign of `succession`
    (None without one, or when the region took no part in it). Each campaign's own shares: the mean share of a
    region is of its campaign's maximum."""
    rows = region_ranking(campaign)
    before = {r.region.pk: r for r in region_ranking(succession.previous)} if succession else {}
    for row in rows:
        row.before = before.get(row.region.pk)
    return rows


# --- the municipal scorecard -----------------------------------------------------------------------------


def criteria_of(campaign):
    return list(
        Criterion.objects.filter(mechanism__methodology_id=campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )


def final_points(submission):
    """{criterion code: final points} of a finalized submission."""
    return dict(current_points([submission.pk], "final").get(submission.pk, {}))


def component_strengths(criteria, points):
    """Share of the maximum per component of the management cycle, over all mechanisms, strongest first."""
    sums = {}
    for c in criteria:
        got, most = sums.get(c.component, (0, 0))
        sums[c.component] = (got + (points.get(c.code) or 0), most + c.max_points)
    rows = [(component, got, most, got / most if most else 0) for component, (got, most) in sums.items()]
    return sorted(rows, key=lambda r: (-r[3], r[0].order))


def history_of(municipality, campaign, access=None):
    """The municipality's results in every campaign whose results the viewer may see (`access`; without it, those
    published to every signed-in user), oldest first: the trend of the scorecard."""
    rows = (
        Result.objects.filter(municipality=municipality)
        .select_related("campaign")
        .prefetch_related("campaign__stages")
        .order_by("campaign__year", "campaign__pk")
    )
    viewer = access or EVERY_SIGNED_IN
    return [r for r in rows if r.campaign_id == campaign.pk or viewer.may_see_results(r.campaign)]


def other_totals(campaign, municipality, *, region_id=None):
    rows = Result.objects.filter(campaign=campaign).exclude(municipality=municipality)
    if region_id:
        rows = rows.filter(municipality__region_id=region_id)
    return list(rows.values_list("total", flat=True))


def scoring_specs(campaign):
    return specs_for(campaign.methodology_id)

"""Results on screen: rankings, the municipal scorecard with the gap to the next level and the what-if,
the reports made by the task worker, and the ministry's overview. Thin views over reports/results.py,
reports/scorecard.py and reports/services.py."""

import hashlib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from assessment.dynamics import CHANGE_LABELS
from assessment.models import Submission
from assessment.scores import explain
from municipalities.access import access_for
from municipalities.models import Municipality, Region
from municipalities.tabular import CSV_TYPE, XLSX_TYPE, Column, Sheet, csv_bytes, download, xlsx_bytes
from reports import charts, results, scorecard
from reports.home import dashboard_for
from reports.models import ReportJob
from reports.services import report_request
from surveys.models import Response

PAGE_SIZE = 50
EXPORT_FORMATS = ("xlsx", "csv", "json")


@login_required
@require_safe
def home(request):
    """What each role does next, from every floor of the house (reports.home)."""
    return render(request, "home.html", dashboard_for(access_for(request.user), timezone.localdate()))


def _filters(request):
    get = request.GET
    return results.Filters(
        region=get.get("region", "").strip(),
        level=get.get("level", "").strip(),
        kind=get.get("kind", "").strip(),
        q=get.get("q", "").strip(),
        sort=get.get("sort", "rank").strip() or "rank",
        change=get.get("change", "").strip(),
    )


def _region_or_404(code, known=()):
    """The region of the code (None without one): among `known` regions when there, else read; a 404 when none."""
    if not code:
        return None
    return next((r for r in known if r.code == code), None) or get_object_or_404(Region, code=code)


@login_required
@require_safe
def ranking(request, slug):
    """The ranking page in six queries when its parts are cached (session, user, appointments, the campaign and
    the one it follows; their stages and results versions; the unread notifications): the count, the filters'
    choices and the rendered content are kept per results version (of this campaign and of the previous one the
    viewer may see), query and language; the rows are read only to render a table not in the cache."""
    access = access_for(request.user)
    campaign = results.campaign_results_for(access, slug)
    filters = _filters(request)
    succession = results.succession_for(access, campaign)
    query, base_key = _ranking_key(request, campaign, succession)
    parts = _ranking_parts(campaign, filters, succession, base_key)
    region = _region_or_404(filters.region, parts["regions"] if filters.region else ())
    errors = filters.errors(campaign)
    if errors:
        return render(
            request, "reports/ranking.html", {"campaign": campaign, "errors": errors, "filters": filters}, status=400
        )
    rows = _LazyRows(lambda: results.ranking(campaign, filters, succession))
    page = _CountedPaginator(rows, PAGE_SIZE, parts["count"]).get_page(request.GET.get("page"))
    openable = results.scorecard_municipality_ids(access, campaign)  # a row links to a scorecard the viewer may open
    return render(
        request,
        "reports/ranking.html",
        {
            "campaign": campaign,
            "page": page,
            "filters": filters,
            "region": region,
            "regions": parts["regions"],
            "levels": parts["levels"],
            "kinds": Municipality.Kind.choices,
            "mechanisms": parts["mechanisms"],
            "query": query.urlencode(),
            "published": campaign.results_published,
            "total_count": parts["count"],
            **_ranking_changes(page, succession, filters, f"{base_key}:{page.number}", openable),
        },
    )


RANKING_CACHE_SECONDS = 3600


def _ranking_key(request, campaign, succession):
    """The query without its page, and the cache key of what the page shows for it (results versions, title,
    language: results.fragment_key; and the query)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query, f"{results.fragment_key(campaign, succession)}:{query.urlencode()}"


def _ranking_parts(campaign, filters, succession, base_key):
    """The number of rows of the query (kept per results version, query and language: `base_key`), and the
    regions, levels and mechanisms of the filters and the table's columns (kept per results version and language),
    read from the cache only when used: the page's content is cached whole, so most requests use the count only."""
    key = "ranking-count:" + hashlib.sha256(base_key.encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = 0 if filters.errors(campaign) else results.ranking(campaign, filters, succession).count()
        cache.set(key, count, RANKING_CACHE_SECONDS)
    choices_key = f"ranking-choices:{campaign.pk}:{results.results_version(campaign)}:{translation.get_language()}"

    def choices():
        found = cache.get(choices_key)
        if found is None:
            found = {
                "regions": list(
                    Region.objects.filter(municipalities__results__campaign=campaign).distinct().order_by("code")
                ),
                "levels": results.level_labels(campaign),
                "mechanisms": results.mechanisms_of(campaign),
            }
            cache.set(choices_key, found, RANKING_CACHE_SECONDS)
        return found

    loaded = SimpleLazyObject(choices)
    return {"count": count, **{name: SimpleLazyObject(lambda name=name: loaded[name]) for name in CHOICES}}


CHOICES = ("regions", "levels", "mechanisms")


class _LazyRows:
    """The rows of a ranking, read only when a slice of them is iterated (a cached table never is)."""

    def __init__(self, make):
        self.make = make

    def __getitem__(self, part):
        return SimpleLazyObject(lambda: list(self.make()[part]))


class _CountedPaginator(Paginator):
    """A Paginator whose count is known already (kept with the results version)."""

    def __init__(self, rows, per_page, count):
        super().__init__(rows, per_page)
        self.count = count


def _ranking_changes(page, succession, filters, table_key, openable=None):
    """The rows of the page with their change from the previous campaign (read only when the table is not in
    the cache), and the key of the cached table. A row links to its scorecard when the viewer may open it
    (`openable`: municipality ids, None for all), so the table is kept per set of scorecards too."""
    scope = "all" if openable is None else hashlib.sha256(repr(sorted(openable)).encode()).hexdigest()[:16]
    return {
        "openable": openable,
        "rows": SimpleLazyObject(
            lambda: results.with_changes(page.object_list, succession, regional=bool(filters.region))
        ),
        "succession": succession,
        "changes": CHANGE_LABELS,
        # The table of a page changes only with the results (of this campaign and of the previous one the viewer
        # may see): rendered once per version, query and page.
        "table_key": f"{table_key}:{scope}",
    }


@login_required
@require_safe
def region_ranking(request, slug):
    access = access_for(request.user)
    campaign = results.campaign_results_for(access, slug)
    succession = results.succession_for(access, campaign)
    rows = results.region_ranking_compared(campaign, succession)
    return render(
        request,
        "reports/regions.html",
        {
            "campaign": campaign,
            "rows": rows,
            "succession": succession,
            "labels": results.level_labels(campaign),
            "levels": results.LEVELS,
            "can_report": access.is_national or access.is_coordinator,
            "report_regions": set(access.regions().values_list("pk", flat=True)),
        },
    )


def _export_rows(campaign, filters, succession):
    labels = results.level_labels(campaign)
    regional = bool(filters.region)
    rows = results.with_changes(results.ranking(campaign, filters, succession), succession, regional=regional)
    return [results.row_dict(r, labels, regional=regional) for r in rows]


def ranking_export_content(campaign, filters, fmt, succession=None):
    """(bytes, content type, file name) of the ranking in xlsx, csv or json: the page's and the command's. With
    `succession`, the change from the previous campaign too."""
    rows = _export_rows(campaign, filters, succession)
    mechanisms = [m.code for m in results.mechanisms_of(campaign)]
    labels = results.level_labels(campaign)
    name = f"muko-{campaign.slug}-ranking{'-' + filters.region if filters.region else ''}.{fmt}"
    if fmt == "json":
        body = {"campaign": campaign.slug, "max_total": campaign.methodology.max_total, "results": rows}
        return json.dumps(body, ensure_ascii=False, indent=1).encode(), "application/json", name
    columns = [
        Column(_("Rank"), 8, "0"),
        Column(_("Municipality code"), 18),
        Column(_("Municipality"), 32),
        Column(_("Region code"), 8),
        Column(_("Region"), 26),
        Column(_("Total"), 8, "0"),
        Column(_("Maximum"), 8, "0"),
        Column(_("Share"), 9, "0.0%"),
        Column(_("Level"), 28),
        *[Column(code, 7, "0") for code in mechanisms],
    ]
    if succession is not None:
        columns += _change_columns(succession)
    table = [
        [
            r["rank"],
            r["municipality"]["code"],
            r["municipality"]["name"],
            r["region"]["code"],
            r["region"]["name"],
            r["total"],
            r["max_total"],
            r["share"],
            r["level_label"],
            *[r["mechanisms"].get(code, 0) for code in mechanisms],
            *(_change_cells(r, labels) if succession is not None else []),
        ]
        for r in rows
    ]
    if fmt == "csv":
        return csv_bytes(columns, table), CSV_TYPE, name
    return xlsx_bytes([Sheet(_("Ranking"), columns, table)]), XLSX_TYPE, name


def _change_columns(succession):
    title = succession.previous.title
    return [
        Column(_("Previous total (%(campaign)s)") % {"campaign": title}, 12, "0"),
        Column(_("Change of total"), 10, "+0;-0;0"),
        Column(_("Change of share"), 10, "+0.0%;-0.0%;0.0%"),
        Column(_("Places gained"), 10, "+0;-0;0"),
        Column(_("Level before"), 28),
        Column(_("Compared on comparable criteria only"), 12),
    ]


def _change_cells(row, labels):
    change = row["change"]
    if change is None:
        return [row["previous_total"], None, None, None, None, None]
    return [
        row["previous_total"],
        change["total"],
        change["share"],
        change["rank"],
        str(labels.get(change["level_from"], change["level_from"])),
        _("yes") if change["comparable_only"] else _("no"),
    ]


@login_required
@require_safe
def ranking_export(request, slug, fmt):
    access = access_for(request.user)
    campaign = results.campaign_results_for(access, slug)
    if fmt not in EXPORT_FORMATS:
        raise Http404
    filters = _filters(request)
    _region_or_404(filters.region)
    succession = results.succession_for(access, campaign)
    errors = filters.errors(campaign)
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    content, content_type, name = ranking_export_content(campaign, filters, fmt, succession)
    return download(content, name, content_type)


def _card(request, slug, code):
    access = access_for(request.user)
    campaign = results.campaign_results_for(access, slug)
    municipality = results.scorecard_municipality(access, campaign, code)
    card = scorecard.card_for(campaign, municipality, viewer=access)
    if card.submission is None:
        raise Http404
    return access, campaign, municipality, card


def _may_request_feedback(access, municipality):
    return (
        access.is_national or access.can_manage_region(municipality.region_id) or access.can_fill_forms(municipality.pk)
    )


SCORECARD_PARTS = (
    "mechanisms",
    "chart",
    "phone_chart",
    "phone_trend",
    "gap",
    "strongest",
    "weakest",
    "recommendations",
    "survey",
    "history",
    "trend",
    "comparison",
)


def _scorecard_data(card):
    data = scorecard.scorecard(card)
    by_mechanism = {}
    for row in explain(card.submission):
        by_mechanism.setdefault(row["criterion"].mechanism_id, []).append(row)
    for m in data["mechanisms"]:
        m["rows"] = by_mechanism.get(m["mechanism"].pk, [])
    return data


@login_required
@require_safe
def scorecard_page(request, slug, code):
    access, campaign, municipality, card = _card(request, slug, code)
    context = {
        "campaign": campaign,
        "municipality": municipality,
        "result": card.result,
        "can_feedback": _may_request_feedback(access, municipality) and card.result is not None,
    }
    if card.result:
        # The card changes only with its result (and the survey behind it): rendered once per version, the
        # data are computed lazily, i.e. only when the cached fragment is missing.
        data = SimpleLazyObject(lambda: _scorecard_data(card))
        context.update({name: SimpleLazyObject(lambda name=name: data[name]) for name in SCORECARD_PARTS})
        context["level_label"] = card.labels.get(card.result.level)
        # Survey figures change only when a step is published: the count of published responses keys them.
        responses = Response.objects.published().filter(campaign=campaign, municipality=municipality).count()
        # The figures of other campaigns are those the viewer may see: their results' versions key them too.
        others = ",".join(f"{r.pk}.{r.version}" for r in card.history)
        context["cache_key"] = (
            f"{card.result.pk}:{card.result.version}:{card.result.computed_at.timestamp()}:{responses}:"
            f"{results.succession_key(card.succession)}:{others}:{translation.get_language()}"
        )
    return render(request, "reports/scorecard.html", context)


def _what_if_rows(card, query, errors):
    """{mechanism: [rows]}: each criterion's current points and the points asked for (as typed, to be corrected
    when refused)."""
    mechanisms = {}
    for c in card.criteria:
        current = card.points.get(c.code) or 0
        mechanisms.setdefault(c.mechanism, []).append(
            {
                "criterion": c,
                "current": current,
                "value": query.get(f"p-{c.code}", current),
                "error": errors.get(c.code),
            }
        )
    return mechanisms


def _totals_text(totals):
    """The other municipalities' totals, highest first, as the page's script reads them (for the rank it shows)."""
    return ",".join(map(str, sorted(totals, reverse=True)))


@login_required
@require_safe
def what_if(request, slug, code):
    access, campaign, municipality, card = _card(request, slug, code)
    if card.result is None:
        raise Http404
    outcome, errors = None, {}
    asked = any(key.startswith("p-") for key in request.GET)
    if asked:
        try:
            outcome = scorecard.what_if(card, request.GET)
        except scorecard.WhatIfError as exc:
            errors = exc.errors
    return render(
        request,
        "reports/what_if.html",
        {
            "campaign": campaign,
            "municipality": municipality,
            "card": card,
            "result": card.result,
            "mechanisms": _what_if_rows(card, request.GET, errors),
            "outcome": outcome,
            "errors": errors,
            "others": _totals_text(results.other_totals(campaign, municipality)),
            "others_region": _totals_text(
                results.other_totals(campaign, municipality, region_id=municipality.region_id)
            ),
            "level_label": card.labels.get(card.result.level),
        },
        status=400 if errors else 200,
    )


def _start(request, **kwargs):
    job, created = report_request(by=request.user, **kwargs)
    if not created and job.status == ReportJob.Status.DONE:
        messages.info(request, _("The report made from the same results is ready."))
    elif not created:
        messages.info(request, _("This report is already being prepared: here is its progress."))
    return redirect("report_status", job.pk)


@login_required
@require_POST
def region_report(request, slug, code):
    access = access_for(request.user)
    campaign = results.campaign_results_for(access, slug)
    access.require(access.is_national or access.is_coordinator)
    region = get_object_or_404(access.regions(), code=code)
    kind = {"pdf": ReportJob.Kind.REGION_PDF, "xlsx": ReportJob.Kind.REGION_XLSX}.get(request.POST.get("format", "pdf"))
    if kind is None:
        messages.error(request, _("Unknown report format."))
        return redirect("region_ranking", slug)
    return _start(request, kind=kind, campaign=campaign, region=region)


@login_required
@require_POST
def feedback_report(request, slug, code):
    access, campaign, municipality, card = _card(request, slug, code)
    access.require(_may_request_feedback(access, municipality))
    if card.result is None:
        raise Http404
    return _start(request, kind=ReportJob.Kind.FEEDBACK_PDF, campaign=campaign, municipality=municipality)


def _job_for(request, pk):
    """A report is shown to whoever may see what it is about: the region for a regional report, the
    municipality's scorecard for a feedback report."""
    access = access_for(request.user)
    job = get_object_or_404(ReportJob.objects.select_related("campaign", "region", "municipality"), pk=pk)
    if not access.may_see_results(job.campaign):
        raise Http404
    if job.region_id and not access.regions().filter(pk=job.region_id).exists():
        raise Http404
    if job.municipality_id:
        results.scorecard_municipality(access, job.campaign, job.municipality.code)
    return job


@login_required
@require_safe
def report_status(request, pk):
    job = _job_for(request, pk)
    return render(request, "reports/status.html", {"job": job, "campaign": job.campaign})


@login_required
@require_safe
def report_download(request, pk):
    job = _job_for(request, pk)
    if job.status != ReportJob.Status.DONE or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name())


def _participation(campaign):
    """{region id: participants, submitted, finalized} of the campaign."""
    done = [Submission.Status.FINALIZED, Submission.Status.APPEALED]
    return {
        row["municipality__region_id"]: row
        for row in Submission.objects.filter(campaign=campaign)
        .values("municipality__region_id")
        .annotate(
            participants=Count("pk"),
            submitted=Count("pk", filter=~Q(status__in=["draft", "returned"])),
            finalized=Count("pk", filter=Q(status__in=done)),
        )
    }


def _overview_changes(campaign, succession, region_rows):
    """Since the previous campaign: who gained and lost most, and the levels by region then."""
    gains, losses = results.movers(campaign, succession)
    before = [(r.region.name, r.before.levels) for r in region_rows if r.before is not None]
    return {
        "chart_before": charts.stacked(before, results.LEVELS) if before else None,
        "phone_chart_before": charts.stacked(before, results.LEVELS, **charts.PHONE) if before else None,
        "gains": gains,
        "losses": losses,
    }


@login_required
@require_safe
def ministry_dashboard(request, slug):
    """Participation and completion by region, levels by region, top and bottom municipalities, the
    regions' positions, and every regional report."""
    access = access_for(request.user)
    access.require(access.is_national)
    campaign = results.campaign_results_for(access, slug)
    participation = _participation(campaign)
    succession = results.succession_for(access, campaign)
    region_rows = results.region_ranking_compared(campaign, succession)
    by_region = {r.region.pk: r for r in region_rows}
    regions = []
    for region in Region.objects.filter(pk__in=participation).order_by("code"):
        p = participation[region.pk]
        regions.append({"region": region, **p, "rank": by_region.get(region.pk)})
    labels = results.level_labels(campaign)
    ordered = results.ranking(campaign)
    return render(
        request,
        "reports/ministry.html",
        {
            "campaign": campaign,
            "regions": regions,
            "region_rows": region_rows,
            # The charts, the movers, the top and the bottom: rendered once per results (computed only then).
            "overview_key": results.fragment_key(campaign, succession),
            "chart": SimpleLazyObject(
                lambda: charts.stacked([(r.region.name, r.levels) for r in region_rows], results.LEVELS)
            ),
            "phone_chart": SimpleLazyObject(
                lambda: charts.stacked([(r.region.name, r.levels) for r in region_rows], results.LEVELS, **charts.PHONE)
            ),
            "succession": succession,
            "changes": SimpleLazyObject(lambda: _overview_changes(campaign, succession, region_rows)),
            "labels": labels,
            "levels": results.LEVELS,
            "top": ordered[:10],
            "bottom": ordered.order_by("-rank_country", "municipality__name")[:10],
            "jobs": ReportJob.objects.filter(campaign=campaign, region__isnull=False).select_related("region")[:50],
        },
    )

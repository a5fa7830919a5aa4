"""The documents: the regional report (PDF and XLSX from the same data) and the feedback report to a
municipality (PDF). Data first, in a fixed number of queries; then HTML from templates; then WeasyPrint.
The HTML is testable without WeasyPrint."""

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import dynamics
from assessment.basis import basis_of_region
from assessment.measures import weakest_criteria
from assessment.models import Answer, Result, Score, Submission
from assessment.results import DONE, current_points
from assessment.sites import link_tallies
from municipalities.models import School
from municipalities.tabular import Column, Sheet, xlsx_bytes
from reports import charts
from reports.models import ReportJob
from reports.results import (
    EVERY_SIGNED_IN,
    LEVELS,
    component_strengths,
    criteria_of,
    level_labels,
    mechanisms_of,
    with_changes,
)
from reports.scorecard import card_for, scorecard
from surveys.models import Invitation


@dataclass
class RegionReport:
    campaign: object
    region: object
    mechanisms: list
    labels: dict
    results: list = field(default_factory=list)  # Result rows, by rank in the region
    schools: int = 0
    respondents: int = 0
    levels: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    pages: list = field(default_factory=list)
    basis: list = field(default_factory=list)  # the letters and orders the campaign ran under in the region
    generated_at: object = None
    succession: object = None  # the previous campaign compared with (dynamics.Succession), if published
    levels_before: dict = field(default_factory=dict)  # the region's municipalities at each level in it


def region_report(campaign, region):
    """Everything the regional report shows, in a fixed number of queries."""
    criteria = criteria_of(campaign)
    report = RegionReport(campaign, region, mechanisms_of(campaign), level_labels(campaign), generated_at=_now())
    report.results = list(
        Result.objects.filter(campaign=campaign, municipality__region=region)
        .select_related("municipality")
        .order_by("rank_region", "municipality__name")
    )
    municipality_ids = [r.municipality_id for r in report.results]
    report.basis = list(basis_of_region(campaign, region))
    report.schools = School.objects.filter(municipality__region=region, is_active=True).count()
    report.respondents = (
        Invitation.objects.completed().filter(campaign=campaign, school__municipality__region=region).count()
    )
    report.levels = dict.fromkeys(LEVELS, 0)
    for r in report.results:
        report.levels[r.level] = report.levels.get(r.level, 0) + 1
    # Problems the seeds name: criteria without evidence, broken links, links off the authority's own site (seed
    # 004: «МОУО не были представлены ссылки с сайтов»), whole mechanisms at zero; and the links nobody has checked,
    # so that no broken links reads as "all fine" only when they were checked.
    submissions = {
        s.municipality_id: s for s in Submission.objects.filter(campaign=campaign, municipality_id__in=municipality_ids)
    }
    with_links = dict(  # criteria with at least one link, per submission (a criterion with three links is one)
        Answer.objects.filter(submission__in=submissions.values(), links__isnull=False)
        .order_by()
        .values_list("submission_id")
        .annotate(c=Count("pk", distinct=True))
    )
    links = link_tallies([s.pk for s in submissions.values()])
    points = current_points([s.pk for s in submissions.values()], "final")
    for r in report.results:
        s = submissions.get(r.municipality_id)
        zero = [code for code, entry in r.mechanisms.items() if not entry["points"]]
        no_evidence = len(criteria) - with_links.get(s.pk, 0) if s else len(criteria)
        report.problems.append(
            {
                "municipality": r.municipality,
                "no_evidence": no_evidence,
                "broken": links[s.pk].problems if s else 0,
                "unchecked": links[s.pk].unchecked if s else 0,
                "off_site": links[s.pk].off_site if s else 0,
                "zero_mechanisms": zero,
            }
        )
        mine = points.get(s.pk, {}) if s else {}
        strengths = component_strengths(criteria, mine)
        report.pages.append(
            {
                "result": r,
                "chart": charts.bars(
                    [
                        (
                            f"{m.code} {m.short_title}",
                            r.mechanisms.get(m.code, {}).get("points", 0),
                            r.mechanisms.get(m.code, {}).get("max", 0),
                            r.mechanisms.get(m.code, {}).get("level", "not_formed"),
                        )
                        for m in report.mechanisms
                    ],
                    width=520,
                    row=18,
                    gap=5,
                ),
                "strongest": strengths[:2],
                "weakest": list(reversed(strengths[-2:])),
                "recommendations": _weakest_recommendations(criteria, mine, 4),
            }
        )
    _region_changes(report, criteria, {mid: points.get(s.pk, {}) for mid, s in submissions.items()})
    return report


def _region_changes(report, criteria, points):
    """The change since the previous campaign: each result's `previous` and `change`, the levels then, and each
    page's mechanisms compared (`points`: {municipality id: final points}). A report is made once for whoever may
    see it, so only a published previous campaign is compared. Three to six queries whatever the region's size."""
    succession = dynamics.succession_of(report.campaign, EVERY_SIGNED_IN)
    report.succession = succession
    with_changes(report.results, succession, regional=True)
    if succession is None:
        return
    report.levels_before = dict.fromkeys(LEVELS, 0)
    for level in Result.objects.filter(campaign=succession.previous, municipality__region=report.region).values_list(
        "level", flat=True
    ):
        report.levels_before[level] = report.levels_before.get(level, 0) + 1
    before = {}
    for mid, code, value in Score.objects.filter(
        submission__campaign=succession.previous,
        submission__municipality_id__in=[r.municipality_id for r in report.results],
        submission__status__in=DONE,
        round=Score.Round.FINAL,
        is_current=True,
    ).values_list("submission__municipality_id", "criterion__code", "points"):
        before.setdefault(mid, {})[code] = value
    refs = dynamics.refs_of(criteria)
    for page in report.pages:
        mid = page["result"].municipality_id
        page["compared"] = (
            dynamics.compare(
                before[mid], points.get(mid, {}), succession.correspondence, refs, group=lambda spec: spec.mechanism
            )
            if page["result"].previous is not None and mid in before
            else {}
        )


def _weakest_recommendations(criteria, points, limit):
    return weakest_criteria(criteria, points, limit)


def region_context(report):
    levels = [(code, report.labels.get(code, code), n) for code, n in report.levels.items()]
    return {
        "report": report,
        "generated_at": report.generated_at,
        "campaign": report.campaign,
        "region": report.region,
        "levels": levels,
        "level_chart": charts.stacked([(report.region.name, report.levels)], LEVELS, width=520, label_width=10),
        "font_dir": settings.BASE_DIR / "static",
    }


def region_html(report):
    return render_to_string("reports/pdf/region.html", region_context(report))


def feedback_html(campaign, municipality):
    data = scorecard(card_for(campaign, municipality))
    return render_to_string(
        "reports/pdf/feedback.html",
        {**data, "campaign": campaign, "municipality": municipality, "generated_at": _now()},
    )


def _now():
    """The time a document is prepared, to the second: the PDF's creation date in its Info and XMP metadata."""
    return timezone.now().replace(microsecond=0)


def pdf_bytes(html):
    """A tagged PDF (PDF/UA-1) for officials and screen readers: the structure tree (headings, lists, tables with
    their header cells, figures with the charts' titles), the language of <html lang>, and the title, author,
    creator and dates of the template's <title> and <meta> (reports/pdf/base.html) in the Info dictionary and
    the XMP metadata."""
    # Imported here, not at the top: WeasyPrint (and the Pango it loads) is heavy and only needed for a PDF (the
    # worker, render_report); the pages, the XLSX reports and the tests that skip without it never load it.
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/ua-1")


def region_sheets(report):
    """The regional report's tables as sheets: numbers stay numbers."""
    mech_codes = [m.code for m in report.mechanisms]
    ranking = Sheet(
        _("Ranking"),
        [
            Column(_("Rank in the region"), 10, "0"),
            Column(_("Rank in the country"), 10, "0"),
            Column(_("Municipality"), 32),
            Column(_("Total"), 9, "0"),
            Column(_("Maximum"), 9, "0"),
            Column(_("Share"), 9, "0.0%"),
            Column(_("Level"), 26),
            *[Column(code, 7, "0") for code in mech_codes],
        ],
        [
            [
                r.rank_region,
                r.rank_country,
                r.municipality.name,
                r.total,
                r.max_total,
                float(r.share),
                str(report.labels.get(r.level, r.level)),
                *[r.mechanisms.get(code, {}).get("points", 0) for code in mech_codes],
            ]
            for r in report.results
        ],
    )
    levels = Sheet(
        _("Levels"),
        [Column(_("Level"), 34), Column(_("Municipalities"), 14, "0"), Column(_("Share"), 10, "0.0%")],
        [
            [str(report.labels.get(code, code)), n, n / len(report.results) if report.results else 0]
            for code, n in report.levels.items()
        ],
    )
    heat = Sheet(
        _("Heat map"),
        [Column(_("Municipality"), 32), *[Column(code, 8, "0.0%") for code in mech_codes]],
        [
            [
                r.municipality.name,
                *[
                    (r.mechanisms.get(code, {}).get("points", 0) / r.mechanisms[code]["max"])
                    if r.mechanisms.get(code, {}).get("max")
                    else 0
                    for code in mech_codes
                ],
            ]
            for r in report.results
        ],
    )
    summary = Sheet(
        _("Summary"),
        [Column(_("Figure"), 40), Column(_("Value"), 14, "0")],
        [
            [_("Municipalities"), len(report.results)],
            [_("Schools"), report.schools],
            [_("Survey respondents"), report.respondents],
        ],
    )
    return [
        summary,
        ranking,
        levels,
        heat,
        _problems_sheet(report),
        _basis_sheet(report),
        *_change_sheets(report, ranking, levels),
    ]


def _change_sheets(report, ranking, levels):
    """With a previous campaign: the change beside each municipality of the ranking, the levels then beside now,
    and a sheet of the points per mechanism before and now."""
    if report.succession is None:
        return []
    previous = report.succession.previous
    ranking.columns += [
        Column(_("Total in %(year)s") % {"year": previous.year}, 10, "0"),
        Column(_("Change of total"), 10, "+0;-0;0"),
        Column(_("Change of share"), 10, "+0.0%;-0.0%;0.0%"),
        Column(_("Places gained in the region"), 10, "+0;-0;0"),
        Column(_("Level in %(year)s") % {"year": previous.year}, 26),
    ]
    for row, r in zip(ranking.rows, report.results, strict=True):
        change = r.change
        row += [
            r.previous.total if r.previous else None,
            change.total if change else None,
            float(change.share) if change else None,
            change.rank if change else None,
            str(report.labels.get(r.previous.level, r.previous.level)) if r.previous else None,
        ]
    levels.columns.append(Column(_("Municipalities in %(year)s") % {"year": previous.year}, 14, "0"))
    for row, code in zip(levels.rows, report.levels, strict=True):
        row.append(report.levels_before.get(code, 0))
    mech_codes = [m.code for m in report.mechanisms]
    rows = []
    for page in report.pages:
        compared = page.get("compared") or {}
        if not compared:
            continue
        cells = [page["result"].municipality.name]
        for code in mech_codes:
            entry = compared.get(code)
            cells += [entry.before if entry else None, entry.after if entry else None]
        rows.append(cells)
    columns = [Column(_("Municipality"), 32)]
    for code in mech_codes:
        columns += [Column(f"{code}: {previous.year}", 9, "0"), Column(f"{code}: {report.campaign.year}", 9, "0")]
    return [Sheet(_("Change by mechanism"), columns, rows)]


def _problems_sheet(report):
    """The evidence problems per municipality, as the PDF lists them (reports/pdf/region.html)."""
    return Sheet(
        _("Problems"),
        [
            Column(_("Municipality"), 32),
            Column(_("Criteria without evidence links"), 16, "0"),
            Column(_("Broken links"), 12, "0"),
            Column(_("Links not checked"), 12, "0"),
            Column(_("Links outside the authority's website"), 16, "0"),
            Column(_("Mechanisms at zero"), 30),
        ],
        [
            [
                p["municipality"].name,
                p["no_evidence"],
                p["broken"],
                p["unchecked"],
                p["off_site"],
                ", ".join(p["zero_mechanisms"]),
            ]
            for p in report.problems
        ],
    )


def _basis_sheet(report):
    """The letters and orders the campaign ran under in the region, as a short list."""
    return Sheet(
        _("Grounds"),
        [
            Column(_("Document"), 60),
            Column(_("Issued by"), 34),
            Column(_("Number"), 14),
            Column(_("Date"), 12, "DD.MM.YYYY"),
        ],
        [[d.title, d.issuer, d.number, d.date] for d in report.basis],
    )


def build(job, progress):
    """The bytes of a job's document; `progress(percent, step)` reports how far it has got."""
    started = time.monotonic()
    if job.kind == ReportJob.Kind.FEEDBACK_PDF:
        progress(20, _("Collecting the results"))
        html = feedback_html(job.campaign, job.municipality)
        progress(50, _("Laying out the pages"))
        return pdf_bytes(html)
    progress(10, _("Collecting the results"))
    report = region_report(job.campaign, job.region)
    if job.kind == ReportJob.Kind.REGION_XLSX:
        progress(60, _("Writing the workbook"))
        return xlsx_bytes(region_sheets(report))
    progress(30, _("Preparing the pages"))
    html = region_html(report)
    progress(50, _("Laying out the pages"))
    content = pdf_bytes(html)
    job.prepared_seconds = time.monotonic() - started
    return content

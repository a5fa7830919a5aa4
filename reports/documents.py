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

from assessment import review
from assessment.models import Answer, EvidenceLink, Result, Submission
from municipalities.models import School
from municipalities.tabular import Column, Sheet, xlsx_bytes
from reports import charts
from reports.models import ReportJob
from reports.results import LEVELS, component_strengths, criteria_of, level_labels, mechanisms_of
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
    generated_at: object = None


def region_report(campaign, region):
    """Everything the regional report shows, in a fixed number of queries."""
    criteria = criteria_of(campaign)
    report = RegionReport(
        campaign, region, mechanisms_of(campaign), level_labels(campaign), generated_at=timezone.now()
    )
    report.results = list(
        Result.objects.filter(campaign=campaign, municipality__region=region)
        .select_related("municipality")
        .order_by("rank_region", "municipality__name")
    )
    municipality_ids = [r.municipality_id for r in report.results]
    report.schools = School.objects.filter(municipality__region=region, is_active=True).count()
    report.respondents = (
        Invitation.objects.completed().filter(campaign=campaign, school__municipality__region=region).count()
    )
    report.levels = dict.fromkeys(LEVELS, 0)
    for r in report.results:
        report.levels[r.level] = report.levels.get(r.level, 0) + 1
    # Problems the seeds name: criteria without evidence, broken links, whole mechanisms at zero.
    submissions = {
        s.municipality_id: s for s in Submission.objects.filter(campaign=campaign, municipality_id__in=municipality_ids)
    }
    with_links = dict(
        Answer.objects.filter(submission__in=submissions.values())
        .annotate(n=Count("links"))
        .filter(n__gt=0)
        .values_list("submission_id")
        .annotate(c=Count("pk"))
    )
    broken = dict(
        EvidenceLink.objects.filter(
            answer__submission__in=submissions.values(),
            state__in=[EvidenceLink.State.DEAD, EvidenceLink.State.FAILING, EvidenceLink.State.REFUSED],
        )
        .values_list("answer__submission_id")
        .annotate(c=Count("pk"))
    )
    points = review.current_points([s.pk for s in submissions.values()], "final")
    for r in report.results:
        s = submissions.get(r.municipality_id)
        zero = [code for code, entry in r.mechanisms.items() if not entry["points"]]
        no_evidence = len(criteria) - with_links.get(s.pk, 0) if s else len(criteria)
        report.problems.append(
            {
                "municipality": r.municipality,
                "no_evidence": no_evidence,
                "broken": broken.get(s.pk, 0) if s else 0,
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
    return report


def _weakest_recommendations(criteria, points, limit):
    weak = sorted(
        (c for c in criteria if c.recommendation and (points.get(c.code) or 0) < c.max_points),
        key=lambda c: ((points.get(c.code) or 0) / c.max_points, -c.max_points, c.code),
    )
    return weak[:limit]


def region_context(report):
    levels = [(code, report.labels.get(code, code), n) for code, n in report.levels.items()]
    return {
        "report": report,
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
        {**data, "campaign": campaign, "municipality": municipality, "generated_at": timezone.now()},
    )


def pdf_bytes(html):
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


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
    problems = Sheet(
        _("Problems"),
        [
            Column(_("Municipality"), 32),
            Column(_("Criteria without evidence links"), 16, "0"),
            Column(_("Broken links"), 12, "0"),
            Column(_("Mechanisms at zero"), 30),
        ],
        [
            [p["municipality"].name, p["no_evidence"], p["broken"], ", ".join(p["zero_mechanisms"])]
            for p in report.problems
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
    return [summary, ranking, levels, heat, problems]


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

"""Results and reports: rankings, the scorecard with the gap and the what-if, exports, the regional report
(HTML without WeasyPrint, one real PDF), report jobs, the ministry's overview."""

import datetime
import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment.models import CampaignStage, Result, Stage
from reports import documents, results
from reports.models import ReportJob
from reports.scorecard import WhatIfError, card_for, what_if
from reports.services import report_request
from tests.factories import MunicipalityFactory


def _unpublish(campaign):
    CampaignStage.objects.filter(campaign=campaign, stage=Stage.RESULTS).update(
        starts_on=timezone.localdate() + timedelta(days=5), ends_on=timezone.localdate() + timedelta(days=60)
    )


# --- rankings ------------------------------------------------------------------------------------------------


def test_the_ranking_shares_a_rank_between_equal_totals(finalized):
    rows = [(r.municipality.code, r.total, r.rank_country) for r in results.ranking(finalized)]

    assert rows[0] == ("kirov", 281, 1)
    assert {(code, rank) for code, _total, rank in rows[1:]} == {("kumeny", 2), ("elista", 2)}


def test_a_regional_ranking_uses_the_rank_in_the_region(finalized, world, as_role):
    client = as_role(world, "ministry")

    page = client.get(reverse("ranking", args=[finalized.slug]), {"region": "08"})

    rows = list(page.context["page"])
    assert [r.municipality.code for r in rows] == ["elista"]
    assert rows[0].rank_region == 1 and rows[0].rank_country == 2
    assert "город Элиста" in page.content.decode()


def test_filters_search_and_sort(finalized, world, as_role):
    client = as_role(world, "ministry")
    url = reverse("ranking", args=[finalized.slug])

    by_level = client.get(url, {"level": "partially_formed"}).context["page"]
    by_name = client.get(url, {"q": "Кумен"}).context["page"]
    by_kind = client.get(url, {"kind": "city_district"}).context["page"]
    reverse_rank = client.get(url, {"sort": "-rank"}).context["page"]

    assert [r.municipality.code for r in by_level] == ["kirov"]
    assert [r.municipality.code for r in by_name] == ["kumeny"]
    assert list(by_kind) == []  # the factories make municipal districts
    assert reverse_rank[0].municipality.code != "kirov"


@pytest.mark.parametrize("query", [{"level": "best"}, {"kind": "village"}, {"sort": "random()"}, {"q": "x" * 101}])
def test_malformed_filters_are_a_400_with_a_message(finalized, world, as_role, query):
    client = as_role(world, "ministry")

    response = client.get(reverse("ranking", args=[finalized.slug]), query)

    assert response.status_code == 400
    assert response.context["errors"]


def test_an_unknown_region_is_a_404(finalized, world, as_role):
    response = as_role(world, "ministry").get(reverse("ranking", args=[finalized.slug]), {"region": "99"})

    assert response.status_code == 404


def test_before_publication_only_the_operator_and_the_ministry_see_results(finalized, world, as_role):
    _unpublish(finalized)
    url = reverse("ranking", args=[finalized.slug])

    statuses = {
        role: as_role(world, role).get(url).status_code for role in ("operator", "ministry", "coordinator", "organizer")
    }

    assert statuses == {"operator": 200, "ministry": 200, "coordinator": 404, "organizer": 404}


def test_regions_are_ranked_by_mean_share_with_their_levels(finalized):
    rows = results.region_ranking(finalized)

    assert [(r.region.code, r.rank, r.count) for r in rows] == [("43", 1, 2), ("08", 2, 1)]
    assert rows[0].levels["partially_formed"] == 1 and rows[0].levels["separate_elements"] == 1


def test_the_ranking_page_takes_the_same_number_of_queries_for_more_municipalities(
    finalized, world, as_role, django_assert_max_num_queries
):
    client = as_role(world, "ministry")
    url = reverse("ranking", args=[finalized.slug])
    client.get(url)
    cache.clear()  # measure the rendering of the table, not the fragment kept per results version
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for i in range(20):
        m = MunicipalityFactory(region=world.region, code=f"more-{i}")
        Result.objects.create(
            submission=finalized.submissions.create(municipality=m, status="finalized"),
            campaign=finalized,
            municipality=m,
            total=i,
            max_total=555,
            share=i / 555,
            level="not_formed",
            mechanisms=Result.objects.first().mechanisms,
            rank_region=3,
            rank_country=4,
        )
    cache.clear()

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- exports -------------------------------------------------------------------------------------------------


def test_the_ranking_xlsx_has_real_numbers_and_a_frozen_header(finalized, world, as_role):
    response = as_role(world, "ministry").get(reverse("ranking_export", args=[finalized.slug, "xlsx"]))

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2"
    assert rows[0][:3] == ("Место", "Код муниципалитета", "Муниципалитет")
    assert rows[1][0] == 1 and rows[1][5] == 281 and isinstance(rows[1][7], float)
    assert sheet.cell(2, 8).number_format == "0.0%"


def test_csv_and_xlsx_exports_neutralise_formula_injection(finalized, world, as_role):
    world.municipality.name = "=cmd|' /C calc'!A0"
    world.municipality.save()
    client = as_role(world, "ministry")

    csv = client.get(reverse("ranking_export", args=[finalized.slug, "csv"])).content.decode("utf-8-sig")
    xlsx = client.get(reverse("ranking_export", args=[finalized.slug, "xlsx"])).content

    assert "'=cmd" in csv and ";=cmd" not in csv
    names = [r[2] for r in load_workbook(io.BytesIO(xlsx)).active.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names


def test_the_json_export_has_the_api_row_shape(finalized, world, as_role):
    body = json.loads(as_role(world, "ministry").get(reverse("ranking_export", args=[finalized.slug, "json"])).content)

    row = body["results"][0]
    assert set(row) == {
        "rank",
        "municipality",
        "region",
        "total",
        "max_total",
        "share",
        "level",
        "level_label",
        "mechanisms",
        "previous_total",
        "change",
    }
    assert row["previous_total"] is None and row["change"] is None  # the campaign follows none
    assert row["municipality"] == {"code": "kirov", "name": "город Киров"}
    assert set(row["mechanisms"]) == {"1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5"}


def test_export_ranking_command_writes_every_format(finalized, tmp_path):
    for fmt in ("xlsx", "csv", "json"):
        out = tmp_path / f"r.{fmt}"
        call_command(
            "export_ranking", finalized.slug, "--region", "43", "--format", fmt, "-o", str(out), stdout=io.StringIO()
        )
        assert out.stat().st_size > 100
    body = json.loads((tmp_path / "r.json").read_text())
    assert [r["rank"] for r in body["results"]] == [1, 2]


# --- the scorecard -------------------------------------------------------------------------------------------


def test_the_scorecard_shows_the_chart_levels_gap_and_every_point(finalized, world, as_role):
    page = as_role(world, "organizer").get(reverse("scorecard", args=[finalized.slug, "kirov"]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'role="img"' in html
    assert page.context["gap"]["level"] == "formed" and page.context["gap"]["needed"] == 136
    assert sum(s["add"] for s in page.context["gap"]["steps"]) == 136
    assert sum(len(m["rows"]) for m in page.context["mechanisms"]) == 81
    assert page.context["recommendations"]


def test_a_phone_gets_the_scorecards_charts_drawn_for_its_width(finalized, world, as_role):
    """An SVG drawn 560 px wide and shrunk into a phone's 330 px card shrinks its text to 6 px: the phone gets
    charts drawn for its width (labels above the bars), the wider screens the usual ones."""
    page = as_role(world, "organizer").get(reverse("scorecard", args=[finalized.slug, "kirov"]))
    html = page.content.decode()
    phone, wide = page.context["phone_chart"], page.context["chart"]

    assert phone["width"] == 330 and wide["width"] == 560 and page.context["phone_trend"]["width"] == 330
    assert phone["label_y"] < phone["bar_y"] and phone["label_width"] == 0  # each label on its own line
    assert all(b.full + phone["label_width"] + 70 <= phone["width"] for b in phone["bars"])  # value text fits
    assert [b.label for b in phone["bars"]] == [b.label for b in wide["bars"]] and len(phone["bars"]) == 9
    for chart_id in ("mech-chart", "mech-chart-phone"):  # (the trend needs two campaigns: tests/test_dynamics.py)
        assert f'aria-labelledby="{chart_id}-title"' in html
    assert 'class="chart-wrap d-sm-none"' in html and 'class="chart-wrap d-none d-sm-block"' in html


def test_a_scorecard_shown_again_reads_neither_criteria_nor_scores(finalized, world, as_role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = as_role(world, "organizer")
    url = reverse("scorecard", args=[finalized.slug, "kirov"])
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as again:
        page = client.get(url)
    tables = " ".join(q["sql"] for q in again.captured_queries)

    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert '"assessment_score"' not in tables and '"assessment_criterion"' not in tables  # the figures are cached
    assert len(again.captured_queries) < len(first.captured_queries)
    # one row by its unique key: the default orders' joins (campaign, municipality) are not paid for
    submission = next(q["sql"] for q in again.captured_queries if q["sql"].startswith('SELECT "assessment_submission"'))
    assert "JOIN" not in submission


def test_the_gap_criteria_really_lift_the_level(finalized):
    card = card_for(finalized, finalized.submissions.get(municipality__code="kumeny").municipality)
    from reports.scorecard import overall_gap

    gap = overall_gap(card)
    outcome = what_if(card, {f"p-{s['criterion'].code}": s["target"] for s in gap["steps"]})

    assert outcome["level"] == gap["level"]
    lowered = {f"p-{s['criterion'].code}": s["target"] for s in gap["steps"]}
    last = gap["steps"][-1]
    lowered[f"p-{last['criterion'].code}"] = last["target"] - 1
    assert what_if(card, lowered)["level"] != gap["level"]  # the set is the smallest: one point less misses


def test_what_if_gives_total_level_and_ranks_and_writes_nothing(finalized, world, as_role):
    before = list(Result.objects.values_list("pk", "total", "version"))
    client = as_role(world, "coordinator")

    page = client.get(
        reverse("what_if", args=[finalized.slug, "kumeny"]), {"p-2.5.2": "9", "p-2.5.5": "9", "p-2.5.7": "8"}
    )

    outcome = page.context["outcome"]
    assert page.status_code == 200
    assert outcome["total"] > 136 and outcome["rank_country"] == 2 and outcome["rank_region"] == 2
    assert list(Result.objects.values_list("pk", "total", "version")) == before


def test_what_if_ranks_move_above_a_competitor(finalized):
    card = card_for(finalized, finalized.submissions.get(municipality__code="kumeny").municipality)
    everything = {f"p-{c.code}": c.max_points for c in card.criteria}

    outcome = what_if(card, everything)

    assert (outcome["total"], outcome["level"], outcome["rank_country"], outcome["rank_region"]) == (
        555,
        "formed",
        1,
        1,
    )


@pytest.mark.parametrize("value", ["-1", "11", "abc", "1.5"])
def test_what_if_points_outside_the_range_give_a_message_and_no_result(finalized, world, as_role, value):
    page = as_role(world, "coordinator").get(reverse("what_if", args=[finalized.slug, "kumeny"]), {"p-1.1.2": value})

    assert page.status_code == 400
    assert page.context["outcome"] is None
    assert "1.1.2" in page.context["errors"]
    with pytest.raises(WhatIfError):
        what_if(card_for(finalized, world.sibling), {"p-1.1.2": value})


# --- documents and jobs --------------------------------------------------------------------------------------


def test_the_regional_report_html_has_every_section(finalized, world):
    report = documents.region_report(finalized, world.region)

    html = documents.region_html(report)

    for text in ("город Киров", "Куменский район", "281", "Страница", "из", "<thead>", "Тепловая карта"):
        assert text in html
    assert html.count('class="new-page"') == 1 + 2  # the heat map, and a page per municipality


def test_the_regional_report_xlsx_has_a_sheet_per_table(finalized, world):
    report = documents.region_report(finalized, world.region)

    book = load_workbook(io.BytesIO(documents.xlsx_bytes(documents.region_sheets(report))))

    # The sixth sheet lists the campaign's basis (tests/test_seeds.py).
    assert book.sheetnames[:5] == ["Сводка", "Рейтинг", "Уровни", "Тепловая карта", "Проблемы"]
    assert len(book.sheetnames) == 6
    ranking = list(book["Рейтинг"].iter_rows(min_row=2, values_only=True))
    assert ranking[0][:4] == (1, 1, "город Киров", 281)
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)


def test_a_report_requested_twice_while_running_is_the_same_job(finalized, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first, created = report_request(
            kind="region_pdf", campaign=finalized, region=world.region, by=world.users["coordinator"]
        )
        again, created_again = report_request(
            kind="region_pdf", campaign=finalized, region=world.region, by=world.users["operator"]
        )

    assert created and not created_again and first.pk == again.pk
    assert ReportJob.objects.count() == 1


def test_the_worker_makes_the_regional_pdf_with_names_and_totals(
    finalized, world, as_role, django_capture_on_commit_callbacks
):
    pytest.importorskip("weasyprint")
    client = as_role(world, "coordinator")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("region_report", args=[finalized.slug, "43"]), {"format": "pdf"})
    job = ReportJob.objects.get()
    status = client.get(response["Location"])
    pdf = client.get(reverse("report_download", args=[job.pk]))

    assert job.status == "done" and job.progress == 100
    assert (
        "report_download" in str(status.content) or reverse("report_download", args=[job.pk]) in status.content.decode()
    )
    content = b"".join(pdf.streaming_content)
    assert content.startswith(b"%PDF")
    text = _pdf_text(content)
    assert "город Киров" in text and "281" in text and "Страница 2 из" in text


def _pdf_text(content):
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_the_feedback_report_lists_targeted_recommendations(finalized, world):
    html = documents.feedback_html(finalized, world.municipality)

    assert "Адресные рекомендации" in html
    assert "город Киров" in html and "281" in html


def test_a_failed_job_says_so(finalized, world, monkeypatch, as_role):
    from reports import tasks

    job = ReportJob.objects.create(kind="region_pdf", campaign=finalized, region=world.region, results_key="x")
    monkeypatch.setattr(documents, "build", lambda job, progress: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        tasks.report_run(job)

    job.refresh_from_db()
    page = as_role(world, "coordinator").get(reverse("report_status", args=[job.pk]))
    assert job.status == "failed" and "не удалось" in page.content.decode().lower()


def test_the_ministry_overview_lists_regions_levels_and_reports(finalized, world, as_role):
    page = as_role(world, "ministry").get(reverse("ministry_dashboard", args=[finalized.slug]))

    html = page.content.decode()
    assert page.status_code == 200
    assert [r["region"].code for r in page.context["regions"]] == ["08", "43"]
    assert page.context["top"][0].municipality.code == "kirov"
    assert "<svg" in html and reverse("region_report", args=[finalized.slug, "08"]) in html


def test_a_job_no_worker_takes_says_so(finalized, world, as_role):
    job = ReportJob.objects.create(kind="region_pdf", campaign=finalized, region=world.region, results_key="x")
    client = as_role(world, "coordinator")

    fresh = client.get(reverse("report_status", args=[job.pk])).content.decode()
    ReportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    stalled = client.get(reverse("report_status", args=[job.pk])).content.decode()

    assert "Ожидание в очереди" in fresh and "дольше обычного" not in fresh
    assert "дольше обычного" in stalled and 'http-equiv="refresh"' in stalled

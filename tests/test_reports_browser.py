"""Results in the browser on the demo data: the ministry ranks and downloads, a coordinator plays what-if."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_browser import login, shot

pytestmark = pytest.mark.browser


def css_id(code):
    return "#p-" + code.replace(".", "\\.")


def test_the_ministry_filters_the_ranking_by_region_and_downloads_it(page, live_server, demo):
    login(page, live_server, "ministry")
    page.goto(f"{live_server.url}/campaigns/2020-approbation/results/")
    page.wait_for_selector("table.ranking-table")
    shot(page, "ranking-national")

    page.select_option("#f-region", "08")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url("**region=08**")

    rows = page.locator("table.ranking-table tbody tr")
    names = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    ranks = [rows.nth(i).locator("td").nth(0).inner_text() for i in range(rows.count())]
    totals = [rows.nth(i).locator("td").nth(3).inner_text().split()[0] for i in range(rows.count())]
    assert totals == ["249", "136", "12", "8", "0", "0"]
    assert ranks == ["1", "2", "3", "4", "5", "5"]
    assert names[0].splitlines()[0] == "город Элиста"
    assert page.locator("table.ranking-table").get_by_text("частично сформирована").first.is_visible()
    shot(page, "ranking-region-08")

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel").click()
    assert download.value.suggested_filename == "muko-2020-approbation-ranking-08.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert [r[5] for r in sheet.iter_rows(min_row=2, values_only=True)] == [249, 136, 12, 8, 0, 0]
    assert not page.console_errors, page.console_errors


def test_a_coordinator_tries_what_if_on_a_municipality(page, live_server, demo, settings):
    login(page, live_server, "coordinator-08")
    page.goto(f"{live_server.url}/campaigns/2020-approbation/results/m/iki-burul/")
    page.wait_for_selector("svg[role=img]")
    shot(page, "scorecard-iki-burul")
    assert "136" in page.locator("main").inner_text()

    page.get_by_role("link", name="Что если").click()
    page.wait_for_selector("#whatif-form")
    total = page.locator(".whatif-summary [data-total]")
    assert total.inner_text() == "136"
    for code in ("1.1.2", "1.1.5", "1.1.7", "1.1.8", "1.2.2", "1.2.5", "1.2.7", "1.2.8", "1.3.2"):
        field = page.locator(css_id(code))
        field.fill(field.get_attribute("max"))
    assert int(total.inner_text()) > 136
    assert page.locator(".whatif-summary [data-rank-region]").inner_text() in ("1", "2")
    shot(page, "what-if-live")

    page.locator(css_id("1.1.1")).fill("99")
    assert "is-invalid" in page.locator("#p-1\\.1\\.1").get_attribute("class")
    page.get_by_role("button", name="Рассчитать").click()
    page.wait_for_selector(".alert-danger")
    assert "1.1.1" in page.locator(".alert-danger").inner_text()
    shot(page, "what-if-refused")
    assert not page.console_errors or all("400" in e for e in page.console_errors), page.console_errors

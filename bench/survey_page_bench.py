"""Benchmark: what a school survey's first visit on a phone transfers, in production mode (DEBUG off, static
files collected and compressed by whitenoise, gunicorn): Chromium at 360 px opens a survey link on an empty cache,
and every response's encoded size (headers and body as they came over the wire) is summed. The baseline is the
same responses decoded (what they would weigh uncompressed). Pages: the link's first page (intro), then the first
page of questions (its script and the translation catalogue), still on the same visit. Target: the first page
≤ 150 KB.

Run through `make bench` (or `python bench/survey_page_bench.py` with DATABASE_URL set); needs Debian's chromium.
BENCH_KEEP_DIR=1 keeps the gunicorn log and a screenshot of each page."""

import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/muko_bench")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TESTING", "1")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

from bench.serving import database_url_for, free_port, server_log_tail, start_gunicorn, tear_down  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 360, 740


def build_data():
    """A campaign whose survey is open today, one school, its three invitations: a token to open."""
    from assessment.models import Campaign, CampaignStage, Participation, Stage
    from assessment.services import methodology_import_file
    from municipalities.models import Municipality, Region, School
    from surveys.models import Invitation
    from surveys.services import invitations_create, questionnaires_import_file

    methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
    questionnaires_import_file(path=ROOT / "fixtures" / "questionnaires_2020.json", methodology=methodology)
    region = Region.objects.create(code="77", name="Регион для замера")
    municipality = Municipality.objects.create(region=region, code="bench", name="Муниципалитет для замера")
    School.objects.create(
        municipality=municipality,
        name="Муниципальное бюджетное общеобразовательное учреждение «Школа № 1»",
        short_name="Школа № 1",
        email="school1@example.org",
    )
    campaign = Campaign.objects.create(slug="survey-page", title="Замер анкеты", year=2026, methodology=methodology)
    today = datetime.date.today()
    CampaignStage.objects.create(
        campaign=campaign,
        stage=Stage.SURVEYS,
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=30),
    )
    Participation.objects.create(campaign=campaign, municipality=municipality)
    invitations_create(campaign=campaign)
    return Invitation.objects.filter(campaign=campaign, role="teacher").values_list("token", flat=True).first()


def visit(base, token, directory):
    """{page: [(url, encoded bytes, decoded bytes, content-encoding)]} of the intro page on an empty cache and of
    the first page of questions after it (the browser's cache as the visit left it)."""
    from playwright.sync_api import sync_playwright

    pages = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"],
        )
        context = browser.new_context(
            locale="ru-RU", viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        for name, path in (("intro", f"/s/{token}/"), ("questions", f"/s/{token}/?p=1")):
            finished = []

            def record(request, finished=finished):
                finished.append(request)

            page.on("requestfinished", record)
            response = page.goto(base + path, wait_until="networkidle")
            if response is None or response.status != 200:
                raise RuntimeError(f"{path} answered {response and response.status}")
            page.wait_for_timeout(300)  # fonts and late requests
            rows = []
            for request in finished:
                sizes = request.sizes()
                answer = request.response()
                try:
                    body = answer.body() if answer is not None else b""
                except Exception:  # gone with a navigation (a redirect): count what came over the wire
                    body = b"\0" * sizes["responseBodySize"]
                headers = answer.all_headers() if answer is not None else {}
                rows.append(
                    (
                        request.url.replace(base, ""),
                        sizes["responseHeadersSize"] + sizes["responseBodySize"],
                        len(body),
                        headers.get("content-encoding", ""),
                    )
                )
            page.remove_listener("requestfinished", record)
            pages[name] = rows
            if os.environ.get("BENCH_KEEP_DIR") == "1":
                page.screenshot(path=str(directory / f"survey-{name}-{WIDTH}.png"), full_page=True)
        context.close()
        browser.close()
    return pages


def main():
    if not Path(CHROMIUM).exists():
        sys.exit("Chromium is not installed (apt-get install chromium)")
    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{original_name}_survey_page"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    directory = Path(tempfile.mkdtemp(prefix="survey-page-bench-"))
    gunicorn = None
    try:
        token = build_data()
        connection.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(port, database_url_for(test_name), directory / "gunicorn.log")
        pages = visit(base, token, directory)
        figures = {}
        for name, rows in pages.items():
            encoded = sum(r[1] for r in rows)
            decoded = sum(r[2] for r in rows)
            figures[f"survey_page_{name}_kb"] = round(encoded / 1024, 1)
            figures[f"survey_page_{name}_decoded_kb"] = round(decoded / 1024, 1)
            figures[f"survey_page_{name}_requests"] = len(rows)
            figures[f"survey_page_{name}_responses"] = [
                f"{url.split('?')[0]} {round(enc / 1024, 1)} KB ({coding or 'raw'}, {round(dec / 1024, 1)} KB decoded)"
                for url, enc, dec, coding in rows
            ]
        figures["survey_page_width_px"] = WIDTH
        figures["database"] = connection.vendor
    except Exception:
        server_log_tail(directory)
        raise
    finally:
        tear_down(gunicorn, connection, original_name, directory)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201
    return figures


if __name__ == "__main__":
    main()

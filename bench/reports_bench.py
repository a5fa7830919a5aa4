"""Benchmark: results and reports on national-scale data (2,400 municipalities in 89 regions, one campaign,
every submission finalized with final scores, Results computed and published), in one run:

1. through gunicorn (2 sync workers, production settings) driven by wrk, each for the same time with the same
   connections: `/healthz` (the baseline: no session, no database), the ranking JSON of the API (all 2,400
   rows), the ranking page (50 rows) and a municipal scorecard, logged in as the ministry (a session made in
   the database, sent as a cookie). Requests/s, p50/p99 and the ratio to /healthz; and the CPU of the gunicorn
   workers and of the database's backends per request, which other load on the machine hardly moves;
2. the queries of the same three answers in-process (django.test.Client) for a 10-municipality campaign and
   for the national one: a fixed number whatever the number of municipalities, so both must be equal;
3. the regional PDF of a 60-municipality region: data (reports.documents.region_report), template
   (region_html) and WeasyPrint (pdf_bytes) timed separately; WeasyPrint alone on the same HTML again as
   the baseline (layout and writing apart); the share of the total spent outside WeasyPrint;
4. the national ranking as XLSX (reports.views.ranking_export_content): seconds and size.

Run through `make bench` (or `python bench/reports_bench.py` with DATABASE_URL set); needs `wrk` on PATH.
Knobs: BENCH_NATIONAL_MUNICIPALITIES, BENCH_REPORTS_SECONDS (per endpoint), BENCH_REPORTS_CONNECTIONS,
BENCH_REPORTS_THREADS, BENCH_KEEP_DIR=1 (keep the wrk outputs and the gunicorn log)."""

import datetime
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/muko_bench")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TESTING", "1")

import django  # noqa: E402

from bench.serving import (  # noqa: E402, F401
    SECRET_KEY,
    WORKERS,
    CpuMeter,
    collectstatic,
    database_url_for,
    free_port,
    server_env,
    server_log_tail,
    start_gunicorn,
    stop_gunicorn,
    tear_down,
)

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

MUNICIPALITIES = int(os.environ.get("BENCH_NATIONAL_MUNICIPALITIES", "2400"))
REGIONS = 89
REGION_SIZE = 60  # municipalities of the region whose PDF is made
SMALL = 10  # municipalities of the small campaign (query counts)
SECONDS = int(os.environ.get("BENCH_REPORTS_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_REPORTS_CONNECTIONS", "8"))
THREADS = int(os.environ.get("BENCH_REPORTS_THREADS", "2"))

WRK_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


# --- the data ------------------------------------------------------------------------------------------------


def campaign_with_results(slug, title, methodology, municipalities, user, rng, *, year=2026, previous=None):
    """A campaign whose results are published today, every submission finalized with final scores, Results
    computed; following `previous` when given. Bulk inserts only."""
    from assessment.models import Campaign, CampaignStage, Criterion, Participation, Score, Stage, Submission
    from assessment.results import results_compute

    campaign = Campaign.objects.create(slug=slug, title=title, year=year, methodology=methodology, previous=previous)
    today = datetime.date.today()
    CampaignStage.objects.create(
        campaign=campaign,
        stage=Stage.RESULTS,
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=60),
    )
    Participation.objects.bulk_create(Participation(campaign=campaign, municipality=m) for m in municipalities)
    submissions = Submission.objects.bulk_create(
        Submission(campaign=campaign, municipality=m, status=Submission.Status.FINALIZED) for m in municipalities
    )
    criteria = list(Criterion.objects.filter(mechanism__methodology=methodology))
    Score.objects.bulk_create(
        (
            Score(submission=s, criterion=c, round=Score.Round.FINAL, points=rng.randint(0, c.max_points), by=user)
            for s in submissions
            for c in criteria
        ),
        batch_size=5000,
    )
    results_compute(campaign=campaign)
    return campaign


def build_data():
    from django.contrib.auth import get_user_model

    from assessment.services import methodology_import_file
    from municipalities.models import Appointment, Municipality, Region, Role

    rng = random.Random(7)
    methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
    users = get_user_model().objects
    operator = users.create(username="bench-operator")
    ministry = users.create_user(username="bench-ministry", first_name="Министерство")
    Appointment.objects.create(user=ministry, role=Role.MINISTRY)
    regions = Region.objects.bulk_create(Region(code=f"{i:02d}", name=f"Регион {i:02d}") for i in range(1, REGIONS + 1))
    # The first REGION_SIZE municipalities in region 01 (its report), the others spread over the rest.
    municipalities = Municipality.objects.bulk_create(
        Municipality(
            region=regions[0] if i < REGION_SIZE else regions[1 + i % (REGIONS - 1)],
            code=f"m-{i:04d}",
            name=f"Муниципалитет {i:04d}",
        )
        for i in range(MUNICIPALITIES)
    )
    # Each campaign follows an earlier one of the same municipalities: the ranking shows the change since then.
    national = campaign_with_results(
        "national",
        "Национальная",
        methodology,
        municipalities,
        operator,
        rng,
        previous=campaign_with_results(
            "national-2023", "Национальная 2023", methodology, municipalities, operator, rng, year=2023
        ),
    )
    small = campaign_with_results(
        "small",
        "Малая",
        methodology,
        municipalities[-SMALL:],
        operator,
        rng,
        previous=campaign_with_results(
            "small-2023", "Малая 2023", methodology, municipalities[-SMALL:], operator, rng, year=2023
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return national, small, regions[0], ministry


def session_cookie(user):
    """A logged-in session stored in the database, signed with the server's SECRET_KEY."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings

    with override_settings(SECRET_KEY=SECRET_KEY):
        user.refresh_from_db()
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.save()
    return session.session_key


# --- the URLs ------------------------------------------------------------------------------------------------


def urls_of(campaign, code, json_path):
    return {
        "ranking_json": json_path.format(slug=campaign.slug),
        "ranking_html": f"/campaigns/{campaign.slug}/results/",
        "scorecard": f"/campaigns/{campaign.slug}/results/m/{code}/",
    }


def ranking_json_path():
    """The API's ranking when it is there; else the JSON export (the same rows) meanwhile."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("api-ranking", args=["SLUG"]).replace("SLUG", "{slug}"), "api"
    except NoReverseMatch:
        return "/campaigns/{slug}/results/export.json", "export"


def count_queries(client, url):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code} in-process")
    return len(captured.captured_queries), response


def query_counts(national, small, user, json_path):
    from django.test import Client

    client = Client()
    client.force_login(user)
    figures = {}
    cases = [
        (SMALL, urls_of(small, small.results.order_by("pk").first().municipality.code, json_path)),
        (MUNICIPALITIES, urls_of(national, national.results.order_by("pk").first().municipality.code, json_path)),
    ]
    for _ in range(2):  # first round warms what is cached per process (content types, translations...)
        for size, urls in cases:
            for name, url in urls.items():
                n, response = count_queries(client, url)
                figures[f"reports_queries_{name}_{size}"] = n
                if name == "ranking_json":
                    body = json.loads(response.content)
                    rows = body["results"]
                    assert len(rows) == size, (url, len(rows))
    return figures


# --- documents -----------------------------------------------------------------------------------------------


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def region_pdf(campaign, region):
    from django.conf import settings
    from weasyprint import HTML

    from reports import documents

    # Warm-up, not timed: imports, template loading, the data's queries once; WeasyPrint's fonts and caches
    # on the report cut to one municipality (the same styles and fonts, a few pages).
    report = documents.region_report(campaign, region)
    documents.region_html(report)
    report.results, report.problems, report.pages = report.results[:1], report.problems[:1], report.pages[:1]
    documents.pdf_bytes(documents.region_html(report))

    report, data_s = timed(documents.region_report, campaign, region)
    assert len(report.results) == REGION_SIZE, len(report.results)
    html, template_s = timed(documents.region_html, report)
    pdf, weasyprint_s = timed(documents.pdf_bytes, html)
    total_s = data_s + template_s + weasyprint_s
    # The baseline: WeasyPrint alone on the same HTML and the same tagged variant, layout and writing apart.
    document, layout_s = timed(
        lambda: HTML(string=html, base_url=str(settings.BASE_DIR)).render(pdf_variant="pdf/ua-1")
    )
    _, write_s = timed(document.write_pdf, pdf_variant="pdf/ua-1")
    return {
        "reports_region_pdf_municipalities": len(report.results),
        "reports_region_pdf_s": round(total_s, 2),
        "reports_region_pdf_data_s": round(data_s, 3),
        "reports_region_pdf_template_s": round(template_s, 3),
        "reports_region_pdf_weasyprint_s": round(weasyprint_s, 2),
        "reports_region_pdf_outside_weasyprint_share": round((data_s + template_s) / total_s, 3),
        "reports_region_pdf_pages": len(document.pages),
        "reports_region_pdf_kb": round(len(pdf) / 1024),
        "reports_region_html_kb": round(len(html.encode()) / 1024),
        "reports_weasyprint_alone_s": round(layout_s + write_s, 2),
        "reports_weasyprint_alone_layout_s": round(layout_s, 2),
        "reports_weasyprint_alone_write_s": round(write_s, 2),
    }


def national_xlsx(campaign):
    from reports.results import Filters
    from reports.views import ranking_export_content

    ranking_export_content(campaign, Filters(region="01"), "xlsx")  # warm-up (imports), 60 rows
    (content, content_type, name), seconds = timed(ranking_export_content, campaign, Filters(), "xlsx")
    assert content[:2] == b"PK", content_type
    return {
        "reports_national_xlsx_s": round(seconds, 2),
        "reports_national_xlsx_kb": round(len(content) / 1024),
        "reports_national_xlsx_rows": campaign.results.count(),
    }


# --- the server ----------------------------------------------------------------------------------------------


def check(port, path, cookie, times=3, encoding=None):
    """A few requests one by one: each must answer 200 (also warms both workers). The last body, as sent."""
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    if encoding:
        headers["Accept-Encoding"] = encoding
    for _ in range(times):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}, expected 200 (see the gunicorn log)")
    CODINGS[(path, encoding)] = response.getheader("Content-Encoding") or "identity"
    return body


CODINGS = {}  # (path, Accept-Encoding asked) -> the Content-Encoding of the answer


BROWSER = "gzip, deflate, br"  # what a browser asks


def static_twin(body):
    """The ranking's raw body as a static file of the collected static files (whitenoise serves it from there,
    compressed beforehand by its own compressor as collectstatic does): the baseline of the ranking JSON. Returns
    (its URL path, the files to remove)."""
    from django.conf import settings
    from whitenoise.compress import Compressor

    folder = Path(settings.STATIC_ROOT) / f"bench-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ranking.json"
    path.write_bytes(body)
    made = list(Compressor(quiet=True).compress(str(path)))
    return f"/{settings.STATIC_URL.strip('/')}/{folder.name}/ranking.json", [path, *map(Path, made), folder]


def run_wrk(base, path, cookie, directory, name, master_pid, database, encoding=None):
    args = [f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "30s", "-s", str(directory / "w.lua")]
    if cookie:
        args += ["-H", f"Cookie: sessionid={cookie}"]
    if encoding:
        args += ["-H", f"Accept-Encoding: {encoding}"]
    meter = CpuMeter(master_pid, database)
    meter.start()
    out = subprocess.run(["wrk", *args, base + path], capture_output=True, text=True, check=True).stdout
    cpu_app, cpu_db = meter.stop()
    (directory / f"wrk-{name}.out").write_text(out)
    result = json.loads(out[out.rindex("\n{") + 1 :] if "\n{" in out else out[out.index("{") :])
    result["cpu_app_s"], result["cpu_db_s"] = cpu_app, cpu_db
    return result


SIGNED_IN = "/bench/signed-in/"  # bench/urls.py: loads the session and the user, nothing else


def in_process_body(user, path):
    """The raw (uncompressed) body of `path` for `user`, made in this process: the static baseline's content."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200 and not response.has_header("Content-Encoding"), response.status_code
    return response.content


def compared(figures, raw, twin, wire, static_br):
    """Each figure the brief sets beside its baseline of the same run: the ranking JSON's bytes on the wire against
    its raw body, its rate against whitenoise serving a static file of the same raw size (asked the same way), and
    the ranking page's rate against the cheapest signed-in page."""
    rps = {name[len("reports_") : -len("_rps")]: v for name, v in figures.items() if name.endswith("_rps")}
    return {
        "reports_ranking_json_raw_body_kb": round(len(raw) / 1024, 1),
        "reports_ranking_json_static_twin_kb": round(len(twin) / 1024, 1),
        "reports_ranking_json_gzip_body_kb": round(wire["gzip"] / 1024, 1),
        "reports_ranking_json_br_body_kb": round(wire["br"] / 1024, 1),
        "reports_static_json_br_body_kb": round(static_br / 1024, 1),
        "reports_ranking_json_gzip_share": round(wire["gzip"] / len(raw), 4),
        "reports_ranking_json_br_share": round(wire["br"] / len(raw), 4),
        "reports_ranking_json_codings": {
            f"{'static' if '/bench-' in path else 'api'} asking {asked}": got
            for (path, asked), got in CODINGS.items()
            if asked
        },
        "reports_ranking_json_ratio_to_static": round(rps["ranking_json"] / rps["static_json"], 3),
        "reports_ranking_json_gzip_ratio_to_static": round(rps["ranking_json_gzip"] / rps["static_json"], 3),
        "reports_ranking_html_ratio_to_signed_in": round(rps["ranking_html"] / rps["signed_in"], 3),
    }


def load_figures(runs):
    figures = {}
    healthz_rps = None
    for name, r in runs.items():
        n = r["requests"]
        rps = n / (r["duration_us"] / 1e6)
        errors = sum(r["errors"].values())
        healthz_rps = healthz_rps or rps
        figures[f"reports_{name}_rps"] = round(rps, 1)
        figures[f"reports_{name}_p50_ms"] = round(r["p50_us"] / 1000, 1)
        figures[f"reports_{name}_p99_ms"] = round(r["p99_us"] / 1000, 1)
        if name != "healthz":
            figures[f"reports_{name}_ratio_to_healthz"] = round(rps / healthz_rps, 4)
            figures[f"reports_{name}_cpu_ms_gunicorn"] = round(1000 * r["cpu_app_s"] / n, 1) if n else None
            figures[f"reports_{name}_cpu_ms_postgres"] = round(1000 * r["cpu_db_s"] / n, 1) if n else None
            figures[f"reports_{name}_kb"] = round(r["bytes"] / n / 1024, 1) if n else None
        if errors:
            figures[f"reports_{name}_errors"] = r["errors"]
    return figures


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH (bench/run.sh installs Debian's package)")
    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    # A name of its own: never clobbers the database of another benchmark running at the same time.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{original_name}_reports"
    started = time.perf_counter()
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    directory = Path(tempfile.mkdtemp(prefix="reports-bench-"))
    gunicorn = None
    figures = {}
    try:
        national, small, region, ministry = build_data()
        built_s = time.perf_counter() - started
        json_path, json_source = ranking_json_path()
        cookie = session_cookie(ministry)
        code = region.municipalities.order_by("code").first().code  # a municipality of the 60-region
        urls = urls_of(national, code, json_path)
        (directory / "w.lua").write_text(WRK_LUA)
        raw_body = in_process_body(ministry, urls["ranking_json"])
        connection.close()  # the server's workers are the only clients during the run

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # The product's URLs and settings, plus the bench-only baseline page (bench/urls.py).
        extra = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
        database_url = database_url_for(test_name)
        if collectstatic(server_env(database_url, extra=extra)).wait() != 0:
            raise RuntimeError("collectstatic failed")
        static_path, made = static_twin(raw_body)
        gunicorn = start_gunicorn(port, database_url, directory / "gunicorn.log", extra, collect_static=False)
        raw = check(port, urls["ranking_json"], cookie)
        rows = json.loads(raw)["results"]
        assert len(rows) == MUNICIPALITIES, len(rows)
        wire = {coding: len(check(port, urls["ranking_json"], cookie, encoding=coding)) for coding in ("gzip", "br")}
        static_br = len(check(port, static_path, None, encoding=BROWSER))
        for path in (urls["ranking_html"], urls["scorecard"], SIGNED_IN):
            check(port, path, cookie)
        runs = {"healthz": run_wrk(base, "/healthz", None, directory, "healthz", gunicorn.pid, test_name)}
        runs["signed_in"] = run_wrk(base, SIGNED_IN, cookie, directory, "signed_in", gunicorn.pid, test_name)
        runs["static_json"] = run_wrk(
            base, static_path, None, directory, "static_json", gunicorn.pid, test_name, encoding=BROWSER
        )
        for name, path in urls.items():
            coding = BROWSER if name == "ranking_json" else None
            runs[name] = run_wrk(base, path, cookie, directory, name, gunicorn.pid, test_name, encoding=coding)
        runs["ranking_json_gzip"] = run_wrk(
            base, urls["ranking_json"], cookie, directory, "ranking_json_gzip", gunicorn.pid, test_name, "gzip"
        )
        runs["ranking_json_raw"] = run_wrk(
            base, urls["ranking_json"], cookie, directory, "ranking_json_raw", gunicorn.pid, test_name
        )
        stop_gunicorn(gunicorn)
        gunicorn = None
        for leftover in made:
            leftover.rmdir() if leftover.is_dir() else leftover.unlink()
        figures.update(load_figures(runs))
        figures.update(compared(figures, raw, raw_body, wire, static_br))
        figures["reports_ranking_json_source"] = json_path.format(slug=national.slug)
        if json_source != "api":
            figures["reports_ranking_json_note"] = "the API's ranking is not there yet: the JSON export instead"

        figures.update(query_counts(national, small, ministry, json_path))
        figures.update(region_pdf(national, region))
        figures.update(national_xlsx(national))
        figures["reports_municipalities"] = MUNICIPALITIES
        figures["reports_build_data_s"] = round(built_s, 1)
        figures["reports_connections"] = CONNECTIONS
        figures["reports_wrk_threads"] = THREADS
        figures["reports_seconds_per_endpoint"] = SECONDS
        figures["reports_cpus"] = os.cpu_count()
        figures["reports_total_s"] = round(time.perf_counter() - started, 1)
        figures["database"] = connection.vendor
    except Exception:
        server_log_tail(directory, skip='" 200 ')
        raise
    finally:
        tear_down(gunicorn, connection, original_name, directory)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201
    return figures


if __name__ == "__main__":
    main()

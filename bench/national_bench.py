"""Benchmark: `manage.py generate_national` at full scale (89 regions, 2,400 municipalities, 40,000 schools, a
finalized campaign, 120,000 invitations, ~90,000 responses) into a fresh PostgreSQL database; prints the seconds
and the rows made. Target: ≤ 3 minutes on this 2-core machine. Knob: BENCH_NATIONAL_SCALE (default 1).

The generator also makes the previous campaign (three years earlier) and plans of measures answering it, so the
ranking shows changes: its page and JSON are counted in queries at full scale and at ten municipalities
(a second, small generation), as the ministry sees them. Target: the same count."""

import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/muko_bench")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TESTING", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SCALE = float(os.environ.get("BENCH_NATIONAL_SCALE", "1"))


def ranking_queries():
    """{page, json: queries} of the ranking with changes as the ministry opens it, and the municipalities ranked."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from assessment.models import Result

    client = Client()
    client.force_login(get_user_model().objects.get(username="nat-ministry"))
    counts = {}
    for name, url in (
        ("page", reverse("ranking", args=["national"])),
        ("json", reverse("api-ranking", args=["national"])),
    ):
        client.get(url)  # the first request warms the per-process caches (the methodology, the site)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = len(queries)
    return counts, Result.objects.filter(campaign__slug="national").count()


def small_ranking_queries(original):
    """The same counts on a generation of ten municipalities, in a database of its own."""
    connection.settings_dict["TEST"]["NAME"] = f"test_{original}_national_small"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("generate_national", "--scale", "0.004", stdout=io.StringIO())
        return ranking_queries()
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


def main():
    setup_test_environment()
    original = connection.settings_dict["NAME"]
    small, few = small_ranking_queries(original)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{original}_national"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        call_command("generate_national", "--scale", str(SCALE), stdout=io.StringIO())
        seconds = time.perf_counter() - started
        large, many = ranking_queries()
        counts = {}
        with connection.cursor() as cursor:
            for table in (
                "municipalities_region",
                "municipalities_municipality",
                "municipalities_school",
                "assessment_submission",
                "assessment_answer",
                "assessment_score",
                "assessment_result",
                "assessment_measureplan",
                "assessment_measure",
                "surveys_invitation",
                "surveys_response",
                "surveys_responseanswer",
            ):
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[f"national_rows_{table.split('_', 1)[1]}"] = cursor.fetchone()[0]
        figures = {
            "national_scale": SCALE,
            "national_generate_s": round(seconds, 1),
            **counts,
            "ranking_with_changes_municipalities_small": few,
            "ranking_with_changes_municipalities_national": many,
            "ranking_with_changes_page_queries_small": small["page"],
            "ranking_with_changes_page_queries_national": large["page"],
            "ranking_with_changes_json_queries_small": small["json"],
            "ranking_with_changes_json_queries_national": large["json"],
        }
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()

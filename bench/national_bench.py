"""Benchmark: `manage.py generate_national` at full scale (89 regions, 2,400 municipalities, 40,000 schools, a
finalized campaign, 120,000 invitations, ~90,000 responses) into a fresh PostgreSQL database; prints the seconds
and the rows made. Target: ≤ 3 minutes on this 2-core machine. Knob: BENCH_NATIONAL_SCALE (default 1)."""

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


def main():
    setup_test_environment()
    original = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{original}_national"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        call_command("generate_national", "--scale", str(SCALE), stdout=io.StringIO())
        seconds = time.perf_counter() - started
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
                "surveys_invitation",
                "surveys_response",
                "surveys_responseanswer",
            ):
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                counts[f"national_rows_{table.split('_', 1)[1]}"] = cursor.fetchone()[0]
        figures = {"national_scale": SCALE, "national_generate_s": round(seconds, 1), **counts}
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()

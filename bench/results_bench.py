"""Benchmark: recompute every Result for national-scale data (2,400 municipalities × 81 criteria) and, in
the same run, one plain SQL aggregate over the same score rows; prints both (medians of BENCH_RECOMPUTE_ROUNDS
alternating runs, 7 by default) and their ratio. "first" computes every Result from none; "again" recomputes
them unchanged (nothing to write): the figure against the aggregate."""

import datetime
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TESTING", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

MUNICIPALITIES = int(os.environ.get("BENCH_NATIONAL_MUNICIPALITIES", "2400"))
REGIONS = 89
ROUNDS = int(os.environ.get("BENCH_RECOMPUTE_ROUNDS", "7"))


def main():
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model

        from assessment.models import Campaign, Criterion, Participation, Result, Score, Stage, Submission
        from assessment.results import results_compute
        from assessment.services import methodology_import_file
        from municipalities.models import Municipality, Region

        rng = random.Random(7)
        methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
        user = get_user_model().objects.create(username="bench-operator")
        regions = Region.objects.bulk_create(
            Region(code=f"{i:02d}", name=f"Регион {i:02d}") for i in range(1, REGIONS + 1)
        )
        municipalities = Municipality.objects.bulk_create(
            Municipality(region=regions[i % REGIONS], code=f"m-{i:04d}", name=f"Муниципалитет {i:04d}")
            for i in range(MUNICIPALITIES)
        )
        campaign = Campaign.objects.create(slug="national", title="Национальная", year=2026, methodology=methodology)
        today = datetime.date.today()
        campaign.stages.create(stage=Stage.RESULTS, starts_on=today, ends_on=today)
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
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE") if connection.vendor == "postgresql" else None

        def sql_aggregate():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT submission_id, SUM(points) FROM assessment_score WHERE round = %s AND is_current "
                    "GROUP BY submission_id",
                    ["final"],
                )
                return cursor.fetchall()

        def timed(function):
            started = time.perf_counter()
            value = function()
            return value, time.perf_counter() - started

        assert len(sql_aggregate()) == MUNICIPALITIES  # warm: both read the same pages from the cache
        _, first_s = timed(lambda: results_compute(campaign=campaign))
        assert Result.objects.filter(campaign=campaign).count() == MUNICIPALITIES
        versions = sum(Result.objects.filter(campaign=campaign).values_list("version", flat=True))
        # Other work shares this machine: the recomputation and its baseline alternate, ROUNDS times each, and
        # the medians are compared.
        sql_runs, again_runs = [], []
        for _ in range(ROUNDS):
            sql_runs.append(timed(sql_aggregate)[1])
            _, seconds = timed(lambda: results_compute(campaign=campaign))
            again_runs.append(seconds)
        # Recomputed unchanged: nothing was rewritten.
        assert sum(Result.objects.filter(campaign=campaign).values_list("version", flat=True)) == versions
        sql_s, again_s = statistics.median(sql_runs), statistics.median(again_runs)
        figures = {
            "recompute_municipalities": MUNICIPALITIES,
            "recompute_score_rows": MUNICIPALITIES * len(criteria),
            "recompute_rounds": ROUNDS,
            "recompute_results_first_s": round(first_s, 3),
            "recompute_results_again_s": round(again_s, 3),
            "recompute_sql_aggregate_s": round(sql_s, 3),
            "recompute_ratio_to_sql": round(again_s / sql_s, 2) if sql_s else None,
            "recompute_results_again_runs_s": [round(x, 3) for x in again_runs],
            "recompute_sql_aggregate_runs_s": [round(x, 3) for x in sql_runs],
            "database": connection.vendor,
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201
    return figures


if __name__ == "__main__":
    main()

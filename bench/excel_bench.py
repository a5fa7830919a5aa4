"""Benchmark: export and import of a regional workbook with 60 municipalities × 81 criteria.

Run through `make bench` (or `python bench/excel_bench.py`); uses a throwaway test database on the
configured DATABASE_URL (PostgreSQL in CI and in `make bench`) and prints time and peak memory."""

import io
import json
import os
import resource
import sys
import time
import tracemalloc
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

MUNICIPALITIES = int(os.environ.get("BENCH_MUNICIPALITIES", "60"))


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def peak_python_mb(function):
    """A second run under tracemalloc (which slows Python down, so it is not timed)."""
    tracemalloc.start()
    function()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main():
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model
        from openpyxl import load_workbook

        from assessment import excel_export, excel_import
        from assessment.models import Campaign, Stage
        from assessment.services import campaign_save, methodology_import_file
        from municipalities.access import access_for
        from municipalities.models import Appointment, Municipality, Region, Role

        methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
        region = Region.objects.create(code="77", name="Регион для замера")
        municipalities = Municipality.objects.bulk_create(
            Municipality(region=region, code=f"bench-{i:03d}", name=f"Муниципалитет {i:03d}")
            for i in range(MUNICIPALITIES)
        )
        user = get_user_model().objects.create(username="bench-coordinator")
        Appointment.objects.create(user=user, role=Role.COORDINATOR, region=region)
        import datetime

        today = datetime.date.today()
        campaign = campaign_save(
            campaign=Campaign(slug="bench", title="Замер", year=2026, methodology=methodology),
            stages={s: (today, today + datetime.timedelta(days=30)) for s in Stage},
            municipalities=municipalities,
            by=user,
        )
        ordered = list(Municipality.objects.filter(region=region).in_display_order())
        data, export_s = timed(lambda: excel_export.export_workbook(campaign=campaign, municipalities=ordered))
        export_mb = peak_python_mb(lambda: excel_export.export_workbook(campaign=campaign, municipalities=ordered))

        workbook = load_workbook(io.BytesIO(data))
        for ws in workbook.worksheets:
            columns = {cell.value: cell.column for cell in ws[1]}
            for row in range(2, ws.max_row + 1):
                ws.cell(row=row, column=columns["Описание"]).value = f"Описание мер по критерию, строка {row}"
                ws.cell(
                    row=row, column=columns["Ссылки"]
                ).value = f"https://uo.example.ru/m{ws.sheet_properties.tabColor or ''}{workbook.index(ws)}/{row}.pdf"
                ws.cell(row=row, column=columns["Балл координатора"]).value = 1
        out = io.BytesIO()
        workbook.save(out)
        filled = out.getvalue()

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        access = access_for(user)
        result, import_s = timed(
            lambda: excel_import.import_workbook(filled, campaign=campaign, user=user, access=access)
        )
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        again, reimport_s = timed(
            lambda: excel_import.import_workbook(filled, campaign=campaign, user=user, access=access)
        )
        import_mb = peak_python_mb(
            lambda: excel_import.read_workbook(filled, campaign=campaign, allowed_municipalities=ordered)
        )
        assert len(result.changed) == MUNICIPALITIES and not again.changed
        figures = {
            "excel_municipalities": MUNICIPALITIES,
            "excel_rows": MUNICIPALITIES * 81,
            "excel_export_s": round(export_s, 2),
            "excel_export_peak_mb": round(export_mb, 1),
            "excel_import_s": round(import_s, 2),
            "excel_import_check_peak_python_mb": round(import_mb, 1),
            "excel_import_process_peak_rss_mb": round(max(rss_before, rss_after), 1),
            "excel_reimport_unchanged_s": round(reimport_s, 2),
            "excel_file_kb": round(len(filled) / 1024),
            "database": connection.vendor,
        }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201
    return figures


if __name__ == "__main__":
    main()

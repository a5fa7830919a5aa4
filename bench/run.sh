#!/usr/bin/env bash
# `make bench`: every benchmark against this machine's PostgreSQL; figures to stdout and bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=muko_bench
if [ -z "${DATABASE_URL:-}" ]; then
  pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
fi
# The survey and reports benchmarks drive gunicorn with wrk (Debian's package).
if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
"${PYTHON:-.venv/bin/python}" - <<'PY'
import json, subprocess, sys
figures = {}
for script in ["bench/excel_bench.py", "bench/results_bench.py", "bench/survey_bench.py", "bench/reports_bench.py"]:
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, check=True).stdout
    figures.update(json.loads(out[out.index("{"):]))
targets = {"excel_export_s": 3.0, "excel_import_s": 5.0, "excel_import_process_peak_rss_mb": 300,
           "recompute_results_again_s": 10, "recompute_ratio_to_sql": 5,
           "survey_submit_per_s": 150, "survey_lost": 0,
           "reports_region_pdf_outside_weasyprint_share": 0.25, "reports_national_xlsx_s": 5}
print(f"{'figure':40} {'value':>10} {'target':>10}")
for key, value in figures.items():
    target = targets.get(key, "")
    print(f"{key:40} {value!s:>10} {target!s:>10}")
json.dump(figures, open("bench/results.json", "w"), ensure_ascii=False, indent=2)
PY

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
import json, subprocess, sys, time
sys.path.insert(0, "bench")
from table import render

figures = {}
scripts = ["bench/national_bench.py", "bench/excel_bench.py", "bench/results_bench.py", "bench/survey_bench.py",
           "bench/survey_page_bench.py", "bench/reports_bench.py"]
for script in scripts:
    started = time.monotonic()
    print(f"… {script}", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, check=True).stdout
    figures.update(json.loads(out[out.index("{"):]))
    print(f"  {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
json.dump(figures, open("bench/results.json", "w"), ensure_ascii=False, indent=2)
print(render(figures))
print("\nAll figures: bench/results.json")
PY

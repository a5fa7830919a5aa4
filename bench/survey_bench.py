"""Benchmark: school-survey submissions per second through gunicorn (2 sync workers, config/gunicorn.conf.py)
on PostgreSQL, driven by wrk, beside `GET /healthz` (no database, no session) measured in the same run on the
same server, before and after the submissions (the baseline is the mean of the two).

Each request POSTs a whole valid questionnaire to `/s/<token>/` (`action=submit`), every token used once;
302 → `/s/done/` means accepted. After the POST window no new POST is sent and every POST sent gets its
answer before wrk stops, so afterwards the stored Response rows and completed invitations compare exactly
with the accepted count: `survey_lost` = accepted − stored must be 0, and `survey_errors` (answers other than
302, and POSTs never answered) must be 0. `survey_cpu_ms_per_submit_*`: CPU of the gunicorn workers and of
the database's backends per accepted submission, which other load on the machine hardly moves (the rate does).

Run through `make bench` (or `python bench/survey_bench.py` with DATABASE_URL set); needs `wrk` on PATH
(`bench/run.sh` installs Debian's package). Knobs: BENCH_SURVEY_SCHOOLS, BENCH_SURVEY_SECONDS,
BENCH_SURVEY_CONNECTIONS, BENCH_SURVEY_THREADS, BENCH_HEALTHZ_SECONDS, BENCH_KEEP_DIR=1 (keep the request
file, the wrk scripts and outputs and the gunicorn log)."""

import datetime
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

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
    database_url_for,
    free_port,
    server_log_tail,
    start_gunicorn,
    stop_gunicorn,
    tear_down,
)

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SCHOOLS = int(os.environ.get("BENCH_SURVEY_SCHOOLS", "12000"))  # × 3 roles = invitations, each used once
MUNICIPALITIES = 60
SUBMIT_SECONDS = int(os.environ.get("BENCH_SURVEY_SECONDS", "20"))
SUBMIT_CONNECTIONS = int(os.environ.get("BENCH_SURVEY_CONNECTIONS", "16"))
SUBMIT_THREADS = int(os.environ.get("BENCH_SURVEY_THREADS", "1"))  # one is plenty for a few hundred/s
HEALTHZ_SECONDS = int(os.environ.get("BENCH_HEALTHZ_SECONDS", "10"))
# After the POST window wrk runs this much longer with no new POST, so that every POST sent is answered
# before wrk stops; also the client timeout of one POST.
DRAIN_SECONDS = 5
WARMUP = 40  # submissions sent one by one before wrk: a first check that the form is accepted, and warm workers
# Django accepts the unmasked 32-character secret both as the cookie and as the form field.
CSRF_SECRET = "BenchSurveyCsrfSecret0123456789a"
assert len(CSRF_SECRET) == 32 and CSRF_SECRET.isalnum()

# One line of the request file: "<token>\t<url-encoded body>". Each wrk thread takes every n-th line
# (its own slice), so no token is sent twice; statuses are counted per thread and summed in done().
SUBMIT_LUA = r"""
-- wrk script of bench/survey_bench.py. args: request file, CSRF secret, lines to skip, threads.
-- Thread n reads lines offset+n, offset+n+threads, ... as it goes (its own slice: no token is sent twice).
-- At one deadline for all threads (POST_WINDOW s after wrk starts) the POSTs stop and each connection parks
-- (delay() of an hour: nothing more is sent), so no submission is in flight when wrk stops and every POST sent
-- gets its answer: accepted (302) compares exactly with the rows stored. A parked connection is open and
-- idle, and a sync worker that accepts it blocks on it: a POST queued behind it would never be served. In
-- one thread a connection that parks was connected after every POST still queued; across threads it may
-- not be, so with several threads connections send GET /healthz instead of parking while any POST of any
-- thread still waits for its answer (these few requests are in wrk's latency figures).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC: the same clock in every thread
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end
local MAX_THREADS = 64

-- Globals: setup() sets tid, deadline and the address of the in-flight counts that all threads share (wrk's
-- threads are one process); done() reads the counters of each thread with thread:get.
counts = {}
posted = 0
answered = 0
drained = 0
exhausted = 0
first_post = 0
last_answer = 0
local file, skip, item, inflight, nthreads
local running = false  -- delay() has been asked: the run has begun
local headers = {}

local threads = {}

function setup(thread)
  if deadline == nil then
    deadline = now() + POST_WINDOW
    shared = ffi.new("int64_t[?]", MAX_THREADS)  -- kept referenced here, in the main state, until wrk ends
  end
  assert(#threads < MAX_THREADS)
  thread:set("tid", #threads)
  thread:set("deadline", deadline)
  thread:set("shared_address", tonumber(ffi.cast("intptr_t", shared)))
  table.insert(threads, thread)
end

local function next_item()
  local line = file:read("*l")
  for _ = 1, skip do file:read("*l") end
  if line == nil then return nil end
  local tab = string.find(line, "\t", 1, true)
  return {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)}
end

function init(args)
  local offset = tonumber(args[3])
  nthreads = tonumber(args[4])
  inflight = ffi.cast("volatile int64_t *", shared_address)
  file = assert(io.open(args[1], "r"))
  for _ = 1, offset + tid do file:read("*l") end
  skip = nthreads - 1
  item = next_item()
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Cookie"] = "csrftoken=" .. args[2]
end

local function posts_in_flight()
  local total = 0
  for i = 0, MAX_THREADS - 1 do total = total + tonumber(inflight[i]) end
  return total
end

-- wrk asks delay() before each request, then request() for it (other connections may run in between).
function delay()
  running = true
  if item ~= nil and now() < deadline then return 0 end
  if item == nil and now() < deadline then exhausted = exhausted + 1 end
  if nthreads > 1 and posts_in_flight() > 0 then return 0 end
  return 3600000  -- park this connection: wrk stops before it sends anything more
end

function request()
  if not running then  -- wrk's own check of the script before the run (the request is never sent)
    return wrk.format("POST", "/s/check/", headers, "")
  end
  if item == nil or now() >= deadline then
    return wrk.format("GET", "/healthz")
  end
  local token, body = item[1], item[2]
  item = next_item()
  posted = posted + 1
  inflight[tid] = posted - answered
  if first_post == 0 then first_post = now() end
  return wrk.format("POST", "/s/" .. token .. "/", headers, body)
end

function response(status, hdrs, body)
  if status == 200 and body == "ok" then  -- a /healthz after the deadline
    drained = drained + 1
    return
  end
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
  answered = answered + 1
  inflight[tid] = posted - answered
  last_answer = now()
end

function done(summary, latency, requests)
  local total = {}
  local sum = {posted = 0, answered = 0, drained = 0, exhausted = 0}
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts")) do total[k] = (total[k] or 0) + v end
    for k, _ in pairs(sum) do sum[k] = sum[k] + thread:get(k) end
    local f = thread:get("first_post")
    if f > 0 and (first == nil or f < first) then first = f end
    last = math.max(last, thread:get("last_answer"))
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    '{"statuses": {%s}, "posted": %d, "answered": %d, "drained": %d, "exhausted": %d, "window_s": %.4f, '
    .. '"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    table.concat(parts, ", "), sum.posted, sum.answered, sum.drained, sum.exhausted, first and (last - first) or 0,
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

HEALTHZ_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d}, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def build_data(directory):
    """The territory, a campaign whose survey is open today, its invitations, and the request file."""
    from assessment.models import Campaign, CampaignStage, Participation, Stage
    from assessment.services import methodology_import_file
    from fixtures.demo_surveys import _answer_set
    from municipalities.models import Municipality, Region, School
    from surveys.models import Invitation, Respondent
    from surveys.services import invitations_create, questionnaires_import_file, questions_of

    methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
    questionnaires_import_file(path=ROOT / "fixtures" / "questionnaires_2020.json", methodology=methodology)
    region = Region.objects.create(code="77", name="Регион для замера")
    municipalities = Municipality.objects.bulk_create(
        Municipality(region=region, code=f"bench-{i:03d}", name=f"Муниципалитет {i:03d}") for i in range(MUNICIPALITIES)
    )
    School.objects.bulk_create(
        (
            School(
                municipality=municipalities[i % MUNICIPALITIES],
                name=f"Муниципальное бюджетное общеобразовательное учреждение «Школа № {i}»",
                short_name=f"Школа № {i}",
                email=f"school{i}@example.org",
            )
            for i in range(SCHOOLS)
        ),
        batch_size=5000,
    )
    campaign = Campaign.objects.create(
        slug="survey-bench", title="Замер анкетирования", year=2026, methodology=methodology
    )
    today = datetime.date.today()
    CampaignStage.objects.create(
        campaign=campaign,
        stage=Stage.SURVEYS,
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=30),
    )
    Participation.objects.bulk_create(Participation(campaign=campaign, municipality=m) for m in municipalities)
    invitations_create(campaign=campaign)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    questions = {role: questions_of(campaign, role) for role in Respondent.values}
    rng = random.Random(2026)
    invitations = list(Invitation.objects.filter(campaign=campaign).values_list("token", "role"))
    rng.shuffle(invitations)  # roles and schools mixed as real traffic would be
    path = directory / "submissions.tsv"
    with path.open("w", encoding="ascii") as out:
        for token, role in invitations:
            answers = _answer_set(questions[role], rng, rng.uniform(0.3, 0.8))
            fields = [("csrfmiddlewaretoken", CSRF_SECRET), ("page", "1"), ("action", "submit")]
            for code, value in answers.items():
                for item in value if isinstance(value, list) else [value]:
                    fields.append((f"q-{code}", str(item)))
            out.write(f"{token}\t{urlencode(fields)}\n")
    return campaign, path, len(invitations)


def warm_up(port, path, count):
    """Submit the first `count` lines one by one; they must all be accepted."""
    accepted = 0
    with path.open(encoding="ascii") as lines:
        for _ in range(count):
            token, body = next(lines).rstrip("\n").split("\t", 1)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                f"/s/{token}/",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={CSRF_SECRET}"},
            )
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 302:
                raise RuntimeError(f"warm-up submission answered {response.status}, expected 302 (see gunicorn log)")
            accepted += 1
    return accepted


def run_wrk(args, keep):
    out = subprocess.run(["wrk", *args], capture_output=True, text=True, check=True).stdout
    keep.write_text(out)
    return json.loads(out[out.rindex("\n{") + 1 :] if "\n{" in out else out[out.index("{") :])


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH (bench/run.sh installs Debian's package)")
    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    # A name of its own: never clobbers the database of another benchmark running at the same time.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{original_name}_survey"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    directory = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    gunicorn = None
    try:
        from surveys.models import Invitation, Response, ResponseAnswer

        campaign, requests_path, invitations = build_data(directory)
        (directory / "submit.lua").write_text(SUBMIT_LUA.replace("POST_WINDOW", str(SUBMIT_SECONDS)))
        (directory / "healthz.lua").write_text(HEALTHZ_LUA)
        connection.close()  # the server's workers are the only clients during the run

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(port, database_url_for(test_name), directory / "gunicorn.log")
        warmed = warm_up(port, requests_path, WARMUP)
        healthz = run_wrk(
            ["-t2", "-c16", f"-d{HEALTHZ_SECONDS}s", "-s", str(directory / "healthz.lua"), f"{base}/healthz"],
            directory / "wrk-healthz.out",
        )
        meter = CpuMeter(gunicorn.pid, test_name)
        meter.start()
        submit = run_wrk(
            [
                f"-t{SUBMIT_THREADS}",
                f"-c{SUBMIT_CONNECTIONS}",
                f"-d{SUBMIT_SECONDS + DRAIN_SECONDS}s",
                "--timeout",
                f"{DRAIN_SECONDS}s",
                "-s",
                str(directory / "submit.lua"),
                f"{base}/s/",
                "--",
                str(requests_path),
                CSRF_SECRET,
                str(WARMUP),
                str(SUBMIT_THREADS),
            ],
            directory / "wrk-submit.out",
        )
        cpu_app_s, cpu_db_s = meter.stop()
        # The baseline again after the submissions: other work on the machine moves both; their mean is the
        # figure's baseline, and both are reported.
        healthz_after = run_wrk(
            ["-t2", "-c16", f"-d{HEALTHZ_SECONDS}s", "-s", str(directory / "healthz.lua"), f"{base}/healthz"],
            directory / "wrk-healthz-after.out",
        )
        stop_gunicorn(gunicorn)
        gunicorn = None

        stored = Response.objects.filter(campaign=campaign).count()
        completed = Invitation.objects.filter(campaign=campaign, completed=True).count()
        answer_rows = ResponseAnswer.objects.filter(response__campaign=campaign).count()
        statuses = submit["statuses"]
        accepted_in_run = statuses.get("302", 0)
        accepted = warmed + accepted_in_run
        non_302 = {k: v for k, v in statuses.items() if k != "302"}
        # Sent and never answered (a dropped connection or a timeout). wrk's own timeout count is no use here:
        # it also counts the connections parked after the POST window.
        unanswered = submit["posted"] - submit["answered"]
        submit_per_s = accepted_in_run / submit["window_s"] if submit["window_s"] else 0.0
        healthz_before_rps = healthz["requests"] / (healthz["duration_us"] / 1e6)
        healthz_after_rps = healthz_after["requests"] / (healthz_after["duration_us"] / 1e6)
        healthz_rps = (healthz_before_rps + healthz_after_rps) / 2

        def per_submit_ms(seconds):
            return round(1000 * seconds / accepted_in_run, 1) if accepted_in_run and seconds else None

        figures = {
            "survey_submit_per_s": round(submit_per_s, 1),
            "survey_healthz_rps": round(healthz_rps, 1),
            "survey_healthz_before_rps": round(healthz_before_rps, 1),
            "survey_healthz_after_rps": round(healthz_after_rps, 1),
            "survey_submit_ratio_to_healthz": round(submit_per_s / healthz_rps, 3) if healthz_rps else None,
            "survey_submit_p50_ms": round(submit["p50_us"] / 1000, 1),
            "survey_submit_p90_ms": round(submit["p90_us"] / 1000, 1),
            "survey_submit_p99_ms": round(submit["p99_us"] / 1000, 1),
            "survey_healthz_p50_ms": round(healthz["p50_us"] / 1000, 2),
            "survey_posted": warmed + submit["posted"],
            "survey_accepted": accepted,
            "survey_stored": stored,
            "survey_invitations_completed": completed,
            "survey_lost": max(accepted - stored, 0),
            "survey_errors": sum(non_302.values()) + unanswered,
            # CPU per accepted submission in the run (the machine has os.cpu_count() cores for everything)
            "survey_cpu_ms_per_submit_gunicorn": per_submit_ms(cpu_app_s),
            "survey_cpu_ms_per_submit_postgres": per_submit_ms(cpu_db_s),
            "survey_cpus": os.cpu_count(),
            "survey_answer_rows": answer_rows,
            "survey_window_s": round(submit["window_s"], 2),
            "survey_connections": SUBMIT_CONNECTIONS,
            "survey_wrk_threads": SUBMIT_THREADS,
            "database": connection.vendor,
        }
        if non_302:
            figures["survey_non_302"] = non_302
        if stored > accepted:  # written although the client saw no 302 (a timeout or a dropped connection)
            figures["survey_stored_without_302"] = stored - accepted
        if unanswered:
            figures["survey_unanswered"] = unanswered
        if submit["drained"]:  # GET /healthz after the POST window (several threads): in the latency figures
            figures["survey_drain_healthz"] = submit["drained"]
        if submit["exhausted"]:
            figures["survey_requests_file_exhausted"] = submit["exhausted"]
        if completed != stored:
            figures["survey_completed_differs_from_stored"] = completed - stored
    except Exception:
        server_log_tail(directory)
        raise
    finally:
        tear_down(gunicorn, connection, original_name, directory)
    print(json.dumps(figures, ensure_ascii=False, indent=2))  # noqa: T201
    return figures


if __name__ == "__main__":
    main()

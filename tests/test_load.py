"""Load and fault tests (issue 7), on loopback and bounded in time: `pytest -m load -p no:xdist` with
DATABASE_URL=postgres://… (skipped on SQLite).

One run of LOAD_SECONDS (60 by default) against the production server (gunicorn, 2 sync workers, DEBUG=0,
bench/serving.py) and the real task worker (`manage.py run_worker`), on a database of its own with a small
but real campaign: organizers save their primary-data form, schools submit surveys at /s/<token>/,
coordinators pre-score (the page, then a save), the ministry reads the ranking page and the API ranking. Every
write carries a marker recorded when it is acknowledged (2xx/302). While the load runs:

1. one gunicorn worker is killed with SIGKILL: the master starts another; a request that was on the killed
   worker may fail at the socket level (never acknowledged, so nothing to lose);
2. region reports are requested and the task worker is killed with SIGKILL while one is being made; a new
   worker re-queues the interrupted task (run_worker's recovery) and every report is made;
3. PostgreSQL is stopped for LOAD_OUTAGE_SECONDS (3) and started again (pg_ctlcluster; LOAD_PG_FAULT=block
   shuts only this database instead, for a server this test may not restart): meanwhile every request gets
   a clean 503 (Retry-After, the Russian page or JSON, no traceback), never a 500; afterwards the load goes on
   with 2xx without restarting gunicorn or the task worker.

Afterwards, with the server stopped: no 5xx outside the outage, no unexpected status anywhere, no socket
error but at the kill, every acknowledged write in the database (answers, scores, survey responses) and no
duplicate survey response. The module's tests each assert one part of that one run; a summary is printed."""

import contextlib
import dataclasses
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

DATABASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="load and fault tests need PostgreSQL: set DATABASE_URL=postgres://… (gunicorn, a task worker and "
        "a database restart on a database of their own)",
    ),
    pytest.mark.skipif(
        bool(os.environ.get("PYTEST_XDIST_WORKER")),
        reason="load and fault tests run alone, not beside other tests: pytest -m load -p no:xdist",
    ),
]

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
OUTAGE_SECONDS = float(os.environ.get("LOAD_OUTAGE_SECONDS", "3"))
PG_FAULT = os.environ.get("LOAD_PG_FAULT", "auto")  # restart | block | auto (restart where this test can)
CLIENT_TIMEOUT = 30  # one request; gunicorn's own timeout is 60 s
THINK = 0.05  # between two requests of one client
REGIONS = 3
PER_REGION = 6  # in each region: 2 draft (organizers), 2 submitted (coordinators), 2 finalized (rankings)
SCHOOLS = 60  # per municipality; × 3 respondent roles = the survey links
CSRF = "LoadTestCsrfSecret0123456789abcd"  # Django accepts the unmasked secret as the cookie and the field
assert len(CSRF) == 32 and CSRF.isalnum()
RECOVERY_LIMIT = 30  # seconds after the database is back by which every kind of request must succeed again
REPORT_LIMIT = 120  # seconds after the task worker was killed by which every report must be made
ROOT = Path(__file__).resolve().parent.parent
REPORT_TASK = "reports.tasks.render_report_task"


# --- the data ------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    slug: str
    regions: list  # codes
    organizers: list  # (session cookie, municipality code)
    coordinators: dict  # region code → (session cookie, [submitted municipality codes])
    ministry: str  # session cookie
    criteria: list  # (code, max points)
    surveys: list  # (token, form fields)


def session_cookie(user, secret_key):
    """A logged-in session stored in the database, signed with the server's SECRET_KEY."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings

    with override_settings(SECRET_KEY=secret_key):
        user.refresh_from_db()
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.save()
    return f"sessionid={session.session_key}; csrftoken={CSRF}"


def build_world(secret_key):
    """A campaign with every stage open today, in REGIONS regions of PER_REGION municipalities: its organizers,
    coordinators, the ministry, results for a third of the municipalities and the survey links of the rest."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from assessment.models import Campaign, Criterion, Score, Stage, Submission
    from assessment.results import results_compute
    from assessment.services import campaign_save, methodology_import_file
    from fixtures.demo_surveys import _answer_set
    from municipalities.models import Appointment, Municipality, Region, Role, School
    from surveys.models import Invitation, Respondent
    from surveys.services import invitations_create, questionnaires_import_file, questions_of

    rng = random.Random(7)
    methodology, _ = methodology_import_file(path=ROOT / "fixtures" / "methodology_2020.json")
    questionnaires_import_file(path=ROOT / "fixtures" / "questionnaires_2020.json", methodology=methodology)
    users = get_user_model().objects
    operator = users.create_user(username="load-operator")
    Appointment.objects.create(user=operator, role=Role.OPERATOR)
    ministry = users.create_user(username="load-ministry", first_name="Министерство")
    Appointment.objects.create(user=ministry, role=Role.MINISTRY)
    regions = Region.objects.bulk_create(
        Region(code=str(71 + i), name=f"Нагрузочная область {i + 1}") for i in range(REGIONS)
    )
    municipalities = Municipality.objects.bulk_create(
        Municipality(region=r, code=f"load-{r.code}-{j}", name=f"Район {r.code}-{j}", authority_name="Управление")
        for r in regions
        for j in range(PER_REGION)
    )
    School.objects.bulk_create(
        School(municipality=m, name=f"МБОУ «Школа № {i}» ({m.code})", short_name=f"Школа № {i}")
        for m in municipalities
        for i in range(SCHOOLS)
    )
    today = timezone.localdate()
    window = (today - datetime.timedelta(days=30), today + datetime.timedelta(days=30))
    campaign = campaign_save(
        campaign=Campaign(slug="load-2026", title="Нагрузочная кампания", year=2026, methodology=methodology),
        stages=dict.fromkeys(Stage, window),
        municipalities=municipalities,
        by=operator,
    )
    by_place = {j: [m for m in municipalities if m.code.endswith(f"-{j}")] for j in range(PER_REGION)}
    draft = by_place[0] + by_place[1]
    submitted = by_place[2] + by_place[3]
    finalized = by_place[4] + by_place[5]
    campaign.submissions.filter(municipality__in=submitted).update(
        status=Submission.Status.SUBMITTED, submitted_at=timezone.now()
    )
    campaign.submissions.filter(municipality__in=finalized).update(status=Submission.Status.FINALIZED)
    criteria = list(Criterion.objects.filter(mechanism__methodology=methodology).order_by("code"))
    Score.objects.bulk_create(
        Score(submission=s, criterion=c, round=Score.Round.FINAL, points=rng.randint(0, c.max_points), by=operator)
        for s in campaign.submissions.filter(municipality__in=finalized)
        for c in criteria
    )
    results_compute(campaign=campaign)

    organizers = []
    for m in draft:
        user = users.create_user(username=f"load-organizer-{m.code}")
        Appointment.objects.create(user=user, role=Role.ORGANIZER, municipality=m)
        organizers.append((session_cookie(user, secret_key), m.code))
    coordinators = {}
    for r in regions:
        user = users.create_user(username=f"load-coordinator-{r.code}")
        Appointment.objects.create(user=user, role=Role.COORDINATOR, region=r)
        coordinators[r.code] = (session_cookie(user, secret_key), [m.code for m in submitted if m.region_id == r.pk])

    invitations_create(campaign=campaign)
    questions = {role: questions_of(campaign, role) for role in Respondent.values}
    surveys = []
    for token, role in Invitation.objects.filter(campaign=campaign).order_by("pk").values_list("token", "role"):
        fields = [("csrfmiddlewaretoken", CSRF), ("page", "1"), ("action", "submit")]
        for code, value in _answer_set(questions[role], rng, rng.uniform(0.3, 0.8)).items():
            fields += [(f"q-{code}", str(item)) for item in (value if isinstance(value, list) else [value])]
        surveys.append((token, fields))
    rng.shuffle(surveys)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return World(
        slug=campaign.slug,
        regions=[r.code for r in regions],
        organizers=organizers,
        coordinators=coordinators,
        ministry=session_cookie(ministry, secret_key),
        criteria=[(c.code, c.max_points) for c in criteria],
        surveys=surveys,
    )


# --- PostgreSQL: where it is, and putting it down and up -----------------------------------------------------


def _pg_address():
    parts = urlsplit(DATABASE_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def pg_ready():
    host, port = _pg_address()
    try:
        return subprocess.run(["pg_isready", "-h", host, "-p", str(port), "-q"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def local_cluster():
    """(version, name) of the Debian cluster serving DATABASE_URL when this process may restart it, else None."""
    host, port = _pg_address()
    if host not in {"127.0.0.1", "localhost", "::1"} or not shutil.which("pg_ctlcluster"):
        return None
    if os.geteuid() != 0:
        return None
    try:
        out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    return None


def pg_ctl(cluster, action):
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action],
        check=True,
        timeout=90,
        capture_output=True,
    )


def wait_pg_ready(limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pg_ready():
            return True
        time.sleep(0.2)
    return False


def ensure_postgres_running():
    """Whatever happened, PostgreSQL is left running (other work on this machine uses it too)."""
    if pg_ready():
        return
    cluster = local_cluster()
    if cluster is not None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(cluster, "start")
    assert wait_pg_ready(60), "PostgreSQL is not running after the load test"


def _admin_sql(statements):
    """Run statements on the server's maintenance database (for the 'block' outage)."""
    from django.db import connection

    with connection.creation._nodb_cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


class DatabaseOutage:
    """PostgreSQL down for OUTAGE_SECONDS: the cluster stopped and started ('restart'), or only this database
    closed to connections with its sessions ended ('block')."""

    def __init__(self, database):
        self.database = database
        self.cluster = local_cluster()
        mode = PG_FAULT
        if mode == "auto":
            mode = "restart" if self.cluster else "block"
        if mode == "restart" and self.cluster is None:
            pytest.fail("LOAD_PG_FAULT=restart, but this process cannot restart the PostgreSQL of DATABASE_URL")
        self.mode = mode
        self.down_at = self.ready_at = None

    def _block(self, allow):
        quoted = '"' + self.database.replace('"', '""') + '"'
        statements = [(f"ALTER DATABASE {quoted} ALLOW_CONNECTIONS {'true' if allow else 'false'}", None)]
        if not allow:
            statements.append(
                (
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    (self.database,),
                )
            )
        _admin_sql(statements)

    def _watchdog(self):
        """A process of its own that starts the cluster again should this one die during the outage."""
        version, name = self.cluster
        host, port = _pg_address()
        script = (
            f"sleep {int(OUTAGE_SECONDS) + 60}; pg_isready -q -h {host} -p {port} || "
            f"pg_ctlcluster --skip-systemctl-redirect {version} {name} start"
        )
        return subprocess.Popen(
            ["sh", "-c", script],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def run(self):
        watchdog = self._watchdog() if self.mode == "restart" else None
        self.down_at = time.monotonic()
        try:
            if self.mode == "restart":
                pg_ctl(self.cluster, "stop")
                time.sleep(OUTAGE_SECONDS)
                pg_ctl(self.cluster, "start")
            else:
                self._block(False)
                time.sleep(OUTAGE_SECONDS)
                self._block(True)
        finally:
            if self.mode == "restart":
                ensure_postgres_running()
            else:
                wait_pg_ready(60)
                with contextlib.suppress(Exception):
                    self._block(True)
            if watchdog is not None and watchdog.poll() is None:
                os.killpg(watchdog.pid, signal.SIGKILL)
                watchdog.wait()
        assert wait_pg_ready(60), "PostgreSQL did not come back within 60 s"
        self.ready_at = time.monotonic()


# --- the clients ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Record:
    kind: str
    started: float
    ended: float
    status: int | None  # None: failed at the socket level (refused, reset, timed out)
    expected: bool = True  # the status is one this request may get outside an outage
    clean: bool = True  # a 503: Retry-After, the page or the JSON, no traceback
    detail: str = ""


def _request(port, method, path, cookie=None, fields=None, accept=None):
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if accept:
        headers["Accept"] = accept
    body = None
    if fields is not None:
        body = urlencode(fields)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class Load:
    """The clients, each a thread, and what they saw."""

    def __init__(self, port, world, unavailable_text):
        self.port, self.world, self.unavailable_text = port, world, unavailable_text
        self.stopping = threading.Event()
        self.records = []
        self.failures = []  # exceptions inside a client: a bug of this test
        self.answers = defaultdict(list)  # (municipality, criterion) → [(marker, acknowledged)] in order
        self.scores_acked, self.scores_unacked = [], []
        self.surveys_acked, self.surveys_unacked = set(), set()
        self.surveys_stored_unacked = set()  # a retry answered 409: the earlier, unanswered submit was stored
        self.doubles = Counter()  # a second submit of an accepted link: its status
        self.exhausted = False
        self.threads = []

    # one request, recorded
    def request(self, kind, method, path, expect, **kwargs):
        started = time.monotonic()
        try:
            status, headers, body = _request(self.port, method, path, **kwargs)
        except (OSError, http.client.HTTPException) as exc:
            self.records.append(Record(kind, started, time.monotonic(), None, False, detail=repr(exc)))
            return None
        record = Record(kind, started, time.monotonic(), status, status in expect)
        if status == 503:
            record.clean = self._clean_503(headers, body)
        if not record.expected and (status != 503 or not record.clean):
            record.detail = body[:2000].decode(errors="replace")
        self.records.append(record)
        return status, headers, body

    def _clean_503(self, headers, body):
        if headers.get("retry-after") != "30" or b"Traceback" in body or b"OperationalError" in body:
            return False
        if headers.get("content-type", "").startswith("application/json"):
            return json.loads(body) == {"detail": self.unavailable_text}
        return self.unavailable_text in body.decode() and '<html lang="ru">' in body.decode()

    def pause(self):
        self.stopping.wait(THINK)

    # the clients
    def organizer(self, seed, places):
        rng = random.Random(seed)
        cells = [(cookie, code, criterion) for cookie, code in places for criterion, _ in self.world.criteria]
        rng.shuffle(cells)
        n = 0
        while not self.stopping.is_set():
            cookie, code, criterion = cells[n % len(cells)]
            n += 1
            marker = f"load-{uuid.uuid4().hex}"
            result = self.request(
                "organizer_save",
                "POST",
                f"/campaigns/{self.world.slug}/m/{code}/criteria/{criterion}/save/",
                {200},
                cookie=cookie,
                fields={"csrfmiddlewaretoken": CSRF, "description": marker, "links": ""},
                accept="application/json",
            )
            self.answers[(code, criterion)].append((marker, result is not None and result[0] == 200))
            self.pause()

    def survey(self, items):
        pending = [(token, fields, 0) for token, fields in items]
        pending.reverse()
        rng = random.Random(len(items))
        while not self.stopping.is_set():
            if not pending:
                self.exhausted = True
                return
            token, fields, attempt = pending.pop()
            path = f"/s/{token}/"
            expect = {302, 409} if attempt else {302}
            result = self.request("survey_submit", "POST", path, expect, cookie=f"csrftoken={CSRF}", fields=fields)
            status = result[0] if result else None
            if status == 302:
                self.surveys_acked.add(token)
                self.surveys_unacked.discard(token)
                if rng.random() < 0.1:  # a double click: the second submit must be refused, not stored twice
                    again = self.request(
                        "survey_double", "POST", path, {409}, cookie=f"csrftoken={CSRF}", fields=fields
                    )
                    self.doubles[again[0] if again else None] += 1
            elif status == 409 and attempt:
                self.surveys_stored_unacked.add(token)
                self.surveys_unacked.discard(token)
            else:
                self.surveys_unacked.add(token)
                if attempt < 5:  # the respondent presses "submit" again a little later
                    pending.insert(max(0, len(pending) - 20), (token, fields, attempt + 1))
            self.pause()

    def coordinator(self, seed, assignments):
        rng = random.Random(seed)
        cells = [
            (cookie, code, criterion, top)
            for cookie, codes in assignments
            for code in codes
            for criterion, top in self.world.criteria
        ]
        rng.shuffle(cells)
        n = 0
        while not self.stopping.is_set():
            cookie, code, criterion, top = cells[n % len(cells)]
            n += 1
            path = f"/campaigns/{self.world.slug}/m/{code}/scoring/"
            page = self.request("coordinator_page", "GET", path, {200}, cookie=cookie)
            if page is None or page[0] != 200:
                self.pause()
                continue
            seen = re.search(rf'name="s-{re.escape(criterion)}" value="(\d*)"', page[2].decode())
            assert seen, f"no s-{criterion} field on {path}"
            marker = f"load-{uuid.uuid4().hex}"
            result = self.request(
                "coordinator_save",
                "POST",
                path,
                {302},
                cookie=cookie,
                fields={
                    "csrfmiddlewaretoken": CSRF,
                    f"p-{criterion}": str(rng.randint(0, top)),
                    f"c-{criterion}": marker,
                    f"s-{criterion}": seen.group(1),
                },
            )
            (self.scores_acked if result and result[0] == 302 else self.scores_unacked).append(marker)
            self.pause()

    def ministry(self):
        while not self.stopping.is_set():
            self.request(
                "ministry_ranking", "GET", f"/campaigns/{self.world.slug}/results/", {200}, cookie=self.world.ministry
            )
            self.pause()
            self.request(
                "ministry_api",
                "GET",
                f"/api/v1/campaigns/{self.world.slug}/ranking/",
                {200},
                cookie=self.world.ministry,
            )
            self.pause()

    def _guarded(self, target, *args):
        try:
            target(*args)
        except Exception as exc:
            self.failures.append(f"{target.__name__}: {exc!r}")

    def start(self):
        w = self.world
        half = len(w.surveys) // 2
        coordinators = list(w.coordinators.values())
        plan = [
            (self.organizer, 1, w.organizers[0::2]),
            (self.organizer, 2, w.organizers[1::2]),
            (self.survey, w.surveys[:half]),
            (self.survey, w.surveys[half:]),
            (self.coordinator, 3, coordinators[0::2]),
            (self.coordinator, 4, coordinators[1::2]),
            (self.ministry,),
        ]
        for target, *args in plan:
            thread = threading.Thread(target=self._guarded, args=(target, *args), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT * 2 + 10)
        return not any(thread.is_alive() for thread in self.threads)


# --- the run -------------------------------------------------------------------------------------------------


def _http(port, method, path, cookie=None, fields=None):
    status, headers, _ = _request(port, method, path, cookie=cookie, fields=fields)
    return status, headers


def _sleep_until(moment):
    time.sleep(max(0.0, moment - time.monotonic()))


def _wait(condition, limit, step=0.2):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


@pytest.fixture(scope="module")
def server(django_db_blocker):
    """A database of its own with the data, gunicorn in production mode and the task worker; all torn down,
    and PostgreSQL left running, whatever happens."""
    from django.db import connection
    from django.utils import translation

    from bench import serving

    ensure_postgres_running()
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="load-test-"))
    extra = {
        "MEDIA_ROOT": str(directory / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LINKCHECK_ENABLED": "0",
    }
    state = {"directory": directory, "workers": [], "gunicorn": None}
    with django_db_blocker.unblock():
        original_name = connection.settings_dict["NAME"]
        original_test_name = connection.settings_dict.setdefault("TEST", {}).get("NAME")
        connection.settings_dict["TEST"]["NAME"] = f"test_{original_name}_load"
        collecting = serving.collectstatic(serving.server_env(DATABASE_URL, extra=extra))
        test_name = None
        try:
            test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            database_url = serving.database_url_for(test_name)
            world = build_world(serving.SECRET_KEY)
            connection.close()
            assert collecting.wait(timeout=180) == 0, "collectstatic failed"
            port = serving.free_port()
            state["gunicorn"] = serving.start_gunicorn(
                port, database_url, directory / "gunicorn.log", extra, collect_static=False
            )
            state["workers"].append(serving.start_task_worker(database_url, directory / "worker.log", extra))
            with translation.override("ru"):
                unavailable = translation.gettext("Service temporarily unavailable")
            state.update(
                port=port,
                world=world,
                database=test_name,
                database_url=database_url,
                extra=extra,
                unavailable=unavailable,
                setup_s=time.monotonic() - started,
            )
            yield state
        finally:
            if collecting.poll() is None:
                collecting.kill()
                collecting.wait()
            if state["gunicorn"] is not None:
                serving.stop_gunicorn(state["gunicorn"])
            for worker in state["workers"]:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
            ensure_postgres_running()
            connection.close()
            if test_name is not None:
                connection.creation.destroy_test_db(original_name, verbosity=0)
            connection.settings_dict["TEST"]["NAME"] = original_test_name
            if os.environ.get("LOAD_KEEP_DIR") != "1":
                shutil.rmtree(directory, ignore_errors=True)


def _kill_gunicorn_worker(server, events):
    from bench import serving

    master = server["gunicorn"].pid
    before = serving.gunicorn_workers(master)
    victim = min(before)
    events["gunicorn_workers_before"] = sorted(before)
    events["gunicorn_killed"] = victim
    events["gunicorn_kill_at"] = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    respawned = _wait(
        lambda: (now := serving.gunicorn_workers(master)) and len(now) == serving.WORKERS and victim not in now,
        30,
        0.05,
    )
    events["gunicorn_respawned_s"] = time.monotonic() - events["gunicorn_kill_at"] if respawned else None


def _kill_task_worker(server, events):
    """Request the regions' PDF reports as the ministry; kill -9 the task worker while one is being made; start
    another. Should the task end between being seen running and the kill, the next one is tried. Returns the
    report ids."""
    from django_tasks_db.models import DBTaskResult

    from bench import serving
    from reports.management.commands.run_worker import worker_identity

    world = server["world"]
    jobs = []
    for code in world.regions:
        status, headers = _http(
            server["port"],
            "POST",
            f"/campaigns/{world.slug}/results/regions/{code}/report/",
            cookie=world.ministry,
            fields={"csrfmiddlewaretoken": CSRF, "format": "pdf"},
        )
        assert status == 302, f"the report of region {code} was not accepted: {status}"
        jobs.append(re.search(r"/reports/([0-9a-f-]{36})/", headers["location"]).group(1))
    for _attempt in range(len(jobs)):
        worker = server["workers"][-1]
        victim_id = worker_identity(worker.pid)
        running = _wait(
            lambda: DBTaskResult.objects.filter(status="RUNNING", task_path=REPORT_TASK).first(), REPORT_LIMIT / 2, 0.05
        )
        assert running is not None, "no report task started running"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        events["task_worker_kill_at"] = time.monotonic()
        running.refresh_from_db()
        events.update(
            task_interrupted=str(running.pk),
            task_interrupted_status=running.status,  # RUNNING: killed in the middle of it
            task_killed_worker=victim_id,
            task_claimed_by=running.worker_ids[-1],
        )
        server["workers"].append(
            serving.start_task_worker(server["database_url"], server["directory"] / "worker.log", server["extra"])
        )
        if running.status == "RUNNING":
            break
    return jobs


@pytest.fixture(scope="module")
def run(server, django_db_blocker, request):
    from django.db import connection

    from bench import serving
    from reports.models import ReportJob

    load = Load(server["port"], server["world"], server["unavailable"])
    events = {}
    outage = DatabaseOutage(server["database"])
    jobs = []

    def reports_done():
        done = ReportJob.objects.filter(pk__in=jobs, status="done").count() == len(jobs)
        if done and "reports_done_after_kill_s" not in events:
            events["reports_done_after_kill_s"] = time.monotonic() - events["task_worker_kill_at"]
        return done

    with django_db_blocker.unblock():
        t0 = time.monotonic()
        load.start()
        try:
            _sleep_until(t0 + 0.1 * LOAD_SECONDS)
            _kill_gunicorn_worker(server, events)

            _sleep_until(t0 + 0.15 * LOAD_SECONDS)
            jobs = _kill_task_worker(server, events)

            # The outage once the reports are made (a report cut by it would be retried too, but later).
            _wait(reports_done, 0.6 * LOAD_SECONDS, 0.5)
            _sleep_until(max(time.monotonic(), t0 + 0.5 * LOAD_SECONDS))
            connection.close()
            events["outage_workers_before"] = sorted(serving.gunicorn_workers(server["gunicorn"].pid))
            events["outage_mode"] = outage.mode
            outage.run()
            events["outage_s"] = outage.ready_at - outage.down_at
            _sleep_until(max(t0 + LOAD_SECONDS, outage.ready_at + 0.2 * LOAD_SECONDS))
        finally:
            events["load_s"] = time.monotonic() - t0
            events["clients_stopped"] = load.stop()
            ensure_postgres_running()
        connection.close()
        if jobs:
            _wait(reports_done, max(5.0, REPORT_LIMIT - (time.monotonic() - events["task_worker_kill_at"])), 0.5)
        events["reports_done"] = bool(jobs) and reports_done()
        result = Result(server, load, events, outage, jobs)
        result.verify()
    # Shown whatever the capture mode (the lead quotes it); also in LOAD_SUMMARY when that names a file.
    lines = result.summary()
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        for line in lines:
            reporter.write_line(line) if reporter else print(line)  # noqa: T201
    if os.environ.get("LOAD_SUMMARY"):
        Path(os.environ["LOAD_SUMMARY"]).write_text("\n".join(lines) + "\n")
    return result


# --- what the run left -----------------------------------------------------------------------------------------


class Result:
    def __init__(self, server, load, events, outage, jobs):
        self.server, self.load, self.events, self.outage, self.jobs = server, load, events, outage, jobs
        self.records = sorted(load.records, key=lambda r: r.started)

    def in_outage(self, r):
        return r.ended >= self.outage.down_at - 0.5 and r.started <= self.outage.ready_at + 2

    def at_gunicorn_kill(self, r):
        kill = self.events["gunicorn_kill_at"]
        return r.started <= kill + 0.2 and r.ended >= kill - 0.2

    def verify(self):
        """Read what the database holds against what the clients were told (with the server still up, but no
        load)."""

        from assessment.models import Answer, Score
        from reports.models import ReportJob
        from surveys.models import Invitation, Response

        world = self.server["world"]
        stored = {
            (code, criterion): description
            for code, criterion, description in Answer.objects.filter(
                submission__campaign__slug=world.slug
            ).values_list("submission__municipality__code", "criterion__code", "description")
        }
        lost, consistent = [], 0
        for cell, attempts in self.load.answers.items():
            acked = [i for i, (_, ok) in enumerate(attempts) if ok]
            if not acked:
                continue
            # The last acknowledged write, or one sent after it (answered or not), is what the cell holds.
            allowed = {marker for marker, _ in attempts[acked[-1] :]}
            if stored.get(cell) in allowed:
                consistent += len(acked)
            else:
                lost.append((cell, attempts[acked[-1]][0], stored.get(cell)))
        self.answers_acked = sum(ok for attempts in self.load.answers.values() for _, ok in attempts)
        self.answers_consistent = consistent
        self.answers_lost = lost
        self.answer_versions = sum(
            Answer.objects.filter(submission__campaign__slug=world.slug).values_list("version", flat=True)
        )

        comments = set(
            Score.objects.filter(submission__campaign__slug=world.slug, round="prescore").values_list(
                "comment", flat=True
            )
        )
        self.scores_found = sum(marker in comments for marker in self.load.scores_acked)
        self.scores_lost = [m for m in self.load.scores_acked if m not in comments]
        self.scores_history = Score.objects.filter(submission__campaign__slug=world.slug, round="prescore").count()

        completed = set(
            Invitation.objects.filter(campaign__slug=world.slug, completed=True).values_list("token", flat=True)
        )
        self.surveys_found = len(self.load.surveys_acked & completed)
        self.surveys_lost = sorted(self.load.surveys_acked - completed)
        self.responses = Response.objects.filter(campaign__slug=world.slug).count()
        self.completed = len(completed)
        # A response names no school: a duplicate shows as a municipality and role with more responses than
        # completed links.
        links = Counter(
            Invitation.objects.filter(campaign__slug=world.slug, completed=True).values_list(
                "school__municipality_id", "role"
            )
        )
        stored = Counter(Response.objects.filter(campaign__slug=world.slug).values_list("municipality_id", "role"))
        self.duplicates = [(group, n, links[group]) for group, n in stored.items() if n > links[group]]
        self.stored_without_ack = len(completed - self.load.surveys_acked)

        from django_tasks_db.models import DBTaskResult

        self.report_states = dict(Counter(ReportJob.objects.filter(pk__in=self.jobs).values_list("status", flat=True)))
        self.interrupted = DBTaskResult.objects.get(pk=self.events["task_interrupted"])
        self.task_states = dict(Counter(DBTaskResult.objects.values_list("status", flat=True)))

    def gunicorn_log_problems(self):
        """gunicorn's own errors (a worker timed out, crashed or was killed), but for the worker this test killed."""
        log = self.server["directory"] / "gunicorn.log"
        victim = f"Worker (pid:{self.events['gunicorn_killed']}) was sent SIGKILL"
        pattern = re.compile(r"^\[[^\]]+\] \[\d+\] \[(ERROR|CRITICAL)\] (.*)$")
        return [
            line for line in log.read_text(errors="replace").splitlines() if pattern.match(line) and victim not in line
        ]

    # classification of the requests
    def server_errors_outside_outage(self):
        return [r for r in self.records if r.status is not None and r.status >= 500 and not self.in_outage(r)]

    def errors_500(self):
        return [r for r in self.records if r.status is not None and r.status >= 500 and r.status != 503]

    def unclean_503(self):
        return [r for r in self.records if r.status == 503 and not r.clean]

    def unexpected(self):
        """A status no request of its kind should get (5xx apart) — 4xx, a 200 where a redirect was due."""
        return [r for r in self.records if r.status is not None and r.status < 500 and not r.expected]

    def socket_errors(self):
        return [r for r in self.records if r.status is None]

    def stray_socket_errors(self):
        return [r for r in self.socket_errors() if not self.at_gunicorn_kill(r)]

    def recovery(self):
        """Seconds from the database being back to the first success of each kind (and of any)."""
        ready = self.outage.ready_at
        firsts = {}
        for r in self.records:
            if r.started >= ready and r.expected and r.status is not None and r.status < 500:
                firsts.setdefault(r.kind, r.ended - ready)
        return firsts

    def summary(self):
        kinds = sorted({r.kind for r in self.records})
        lines = ["", "=== load test summary ==="]
        ev = self.events
        lines.append(
            f"load {ev['load_s']:.0f} s, {len(self.records)} requests "
            f"({len(self.records) / ev['load_s']:.1f}/s) from 7 clients; setup {self.server['setup_s']:.0f} s"
        )
        lines.append("  kind                 requests  p50/p95 ms outside the outage  statuses")
        for kind in kinds:
            rs = [r for r in self.records if r.kind == kind]
            statuses = Counter("socket" if r.status is None else r.status for r in rs)
            times = sorted(r.ended - r.started for r in rs if r.status is not None and not self.in_outage(r))
            p50 = times[len(times) // 2] * 1000 if times else 0
            p95 = times[int(len(times) * 0.95)] * 1000 if times else 0
            lines.append(
                f"  {kind:18} {len(rs):8}  {p50:7.0f} / {p95:<7.0f}                  "
                + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str))
            )
        total = Counter(
            "socket errors" if r.status is None else ("2xx/3xx" if r.status < 400 else f"{r.status // 100}xx")
            for r in self.records
        )
        lines.append("  all: " + ", ".join(f"{k}: {v}" for k, v in sorted(total.items())))
        lines.append(
            f"writes acknowledged → found: answers {self.answers_acked} → {self.answers_consistent} "
            f"(lost {len(self.answers_lost)}; answer versions {self.answer_versions}), "
            f"pre-scores {len(self.load.scores_acked)} → {self.scores_found} (lost {len(self.scores_lost)}), "
            f"surveys {len(self.load.surveys_acked)} → {self.surveys_found} (lost {len(self.surveys_lost)})"
        )
        lines.append(
            f"surveys: {self.responses} responses for {self.completed} completed links, duplicates "
            f"{len(self.duplicates)}, stored though unanswered {self.stored_without_ack}, double submits "
            f"{dict(self.load.doubles)}, links left {'none' if self.load.exhausted else 'some'}"
        )
        respawn = ev.get("gunicorn_respawned_s")
        lines.append(
            f"gunicorn worker {ev['gunicorn_killed']} killed: replaced in "
            f"{f'{respawn:.1f} s' if respawn is not None else 'NOT replaced'}, socket errors at the kill "
            f"{len(self.socket_errors()) - len(self.stray_socket_errors())}, elsewhere {len(self.stray_socket_errors())}"
        )
        lines.append(
            f"task worker killed during task {ev['task_interrupted'][:8]} ({ev['task_interrupted_status']}): now "
            f"{self.interrupted.status} after {len(self.interrupted.worker_ids)} claims; reports {self.report_states}"
            + (
                f", all made {ev['reports_done_after_kill_s']:.1f} s after the kill"
                if ev.get("reports_done_after_kill_s")
                else ""
            )
        )
        recovery = self.recovery()
        in_outage = [r for r in self.records if self.in_outage(r)]
        lines.append(
            f"PostgreSQL {self.outage.mode}: down {ev['outage_s']:.1f} s; during it {len(in_outage)} requests, "
            f"503 {sum(r.status == 503 for r in in_outage)} (unclean {len(self.unclean_503())}), "
            f"500 {len(self.errors_500())}; first success after it: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(recovery.items()))
        )
        lines.append(
            f"5xx outside the outage: {len(self.server_errors_outside_outage())}; unexpected statuses: "
            f"{len(self.unexpected())}; client failures: {len(self.load.failures)}"
        )
        return lines


def _show(records, n=5):
    return [(r.kind, r.status, r.detail[:300]) for r in records[:n]]


# --- the tests -----------------------------------------------------------------------------------------------


def test_the_clients_ran_and_stopped(run):
    assert not run.load.failures, run.load.failures
    assert run.events["clients_stopped"], "a client did not stop within its timeout"
    kinds = Counter(r.kind for r in run.records)
    for kind in (
        "organizer_save",
        "survey_submit",
        "coordinator_page",
        "coordinator_save",
        "ministry_ranking",
        "ministry_api",
    ):
        assert kinds[kind] >= 5, f"too few {kind} requests: {kinds}"


def test_no_server_error_outside_the_database_outage_and_no_500_at_all(run):
    assert not run.server_errors_outside_outage(), _show(run.server_errors_outside_outage())
    assert not run.errors_500(), _show(run.errors_500())


def test_every_status_is_one_the_request_may_get(run):
    assert not run.unexpected(), _show(run.unexpected())


def test_every_acknowledged_write_is_in_the_database(run):
    assert run.answers_acked > 0 and run.load.scores_acked and run.load.surveys_acked
    assert not run.answers_lost, run.answers_lost[:5]
    assert run.answer_versions >= run.answers_acked
    assert not run.scores_lost, run.scores_lost[:5]
    assert not run.surveys_lost, run.surveys_lost[:5]


def test_no_survey_is_stored_twice(run):
    assert not run.duplicates
    assert run.responses == run.completed
    # A second submit of an accepted link is refused (a 503 or a socket error instead are counted elsewhere).
    assert not {status for status in run.load.doubles if status is not None and status < 500} - {409}, run.load.doubles


def test_a_killed_gunicorn_worker_is_replaced_and_costs_at_most_its_requests_in_flight(run):
    assert run.events["gunicorn_respawned_s"] is not None, "the master did not replace the killed worker in 30 s"
    assert not run.stray_socket_errors(), _show(run.stray_socket_errors())
    assert len(run.socket_errors()) <= 2  # the one request the killed sync worker was serving (2 at a stretch)
    after = [r for r in run.records if r.started > run.events["gunicorn_kill_at"] + 1]
    assert any(r.status == 200 for r in after)


def test_the_task_killed_with_its_worker_is_run_again_and_every_report_is_made(run):
    assert run.events["task_interrupted_status"] == "RUNNING", "the task had finished before the kill"
    assert run.interrupted.status == "SUCCESSFUL", run.interrupted.traceback[-2000:]
    assert run.events["task_claimed_by"] == run.events["task_killed_worker"]
    assert run.interrupted.worker_ids[0] == run.events["task_killed_worker"]
    assert len(run.interrupted.worker_ids) >= 2
    assert run.events["reports_done"], run.report_states
    assert "RUNNING" not in run.task_states and "FAILED" not in run.task_states, run.task_states


def test_the_database_outage_is_a_clean_503_then_the_app_recovers_without_a_restart(run, server):
    in_outage = [r for r in run.records if run.in_outage(r)]
    assert any(r.status == 503 for r in in_outage), "no request met the outage"
    assert not run.unclean_503(), _show(run.unclean_503())
    recovery = run.recovery()
    kinds = {r.kind for r in run.records} - {"survey_double"} - ({"survey_submit"} if run.load.exhausted else set())
    assert kinds <= set(recovery), f"no success after the outage for {kinds - set(recovery)}"
    assert max(recovery[k] for k in kinds) < RECOVERY_LIMIT, recovery
    # Neither gunicorn nor the task worker was restarted: the master is the same, no worker of its crashed or
    # timed out, and the task worker outlived the outage.
    assert server["gunicorn"].poll() is None
    assert not run.gunicorn_log_problems(), run.gunicorn_log_problems()[:5]
    assert server["workers"][-1].poll() is None, "the task worker died with the database"

"""A database that does not answer is a 503 «Сервис временно недоступен» (a page, or JSON for the API and for
JSON requests) with Retry-After, never a 500 with a traceback: config/middleware_db.py. The real outage (a
PostgreSQL restart under load) is in tests/test_load.py; here the errors are raised by mocks."""

import json
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation

from config.middleware_db import RETRY_AFTER_SECONDS, is_database_outage, unavailable_response

TOKEN = "a" * 32


def _russian(msgid):
    with translation.override("ru"):
        return translation.gettext(msgid)


def _assert_clean_page(response, detail):
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert "errors/503.html" in [t.name for t in response.templates]
    assert '<html lang="ru">' in html
    assert _russian("Service temporarily unavailable") in html
    assert "Traceback" not in html and detail not in html and "OperationalError" not in html


# --- views of this module's URLconf (pytest.mark.urls): what the product's URLs cannot raise on demand ---------


def session_writer(request):
    """The session is saved by SessionMiddleware after the view: an error there is not the view's."""
    request.session["seen"] = True
    return HttpResponse("ok")


def broken(request):
    raise ValueError("a bug, not an outage")


urlpatterns = [path("session/", session_writer), path("broken/", broken)]
handler500 = "config.views.server_error"


# --- the tests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_database_error_in_a_view_is_a_clean_503_page_in_russian(client, db, error):
    with mock.patch("surveys.views.invitation_by_token", side_effect=error):
        response = client.get(f"/s/{TOKEN}/")

    _assert_clean_page(response, str(error))


def test_the_api_gets_json_503(client, world):
    client.force_login(world.users["ministry"])
    error = OperationalError("terminating connection due to administrator command")

    with mock.patch("reports.api.results.campaign_results_for", side_effect=error):
        response = client.get("/api/v1/campaigns/any/ranking/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": _russian("Service temporarily unavailable")}


def test_a_json_request_of_a_page_gets_json_503(client, db):
    error = OperationalError("server closed the connection unexpectedly")

    with mock.patch("surveys.views.invitation_by_token", side_effect=error):
        response = client.post(f"/s/{TOKEN}/autosave/", {"page": "1"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert json.loads(response.content)["detail"] == _russian("Service temporarily unavailable")


@pytest.mark.urls("tests.test_resilience")
def test_a_database_error_after_the_view_is_a_503_too(db):
    """The session saved on the way out fails: Django has already made a 500 of it; it becomes the 503."""
    client = Client(raise_request_exception=False)
    error = OperationalError("the database system is shutting down")

    with mock.patch("django.contrib.sessions.backends.db.SessionStore.save", side_effect=error):
        response = client.get("/session/")

    _assert_clean_page(response, str(error))


@pytest.mark.urls("tests.test_resilience")
def test_any_other_error_stays_a_500(db, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "errors/500.html" in [t.name for t in response.templates]


def test_the_503_page_needs_no_database(db, django_assert_num_queries):
    request = RequestFactory().get("/campaigns/")

    with django_assert_num_queries(0), translation.override("ru"):
        response = unavailable_response(request)

    assert response.status_code == 503
    assert _russian("Service temporarily unavailable") in response.content.decode()


def test_an_error_raised_from_a_database_error_counts_as_an_outage():
    try:
        try:
            raise OperationalError("connection refused")
        except OperationalError as exc:
            raise RuntimeError("could not load the page") from exc
    except RuntimeError as wrapped:
        assert is_database_outage(wrapped)
    assert not is_database_outage(ValueError("no"))
    assert not is_database_outage(None)


# --- the task worker: tasks of a dead worker are run again (reports/management/commands/run_worker.py) --------


def _task(worker_ids, *, started_minutes_ago=1, args=None, path="reports.tasks.render_report_task"):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult, get_date_max

    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": args or ["00000000-0000-0000-0000-000000000000"], "kwargs": {}},
        task_path=path,
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
        worker_ids=worker_ids,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )


@pytest.fixture
def processes():
    """A dead process's worker id and a live one's (a `sleep` of this host)."""
    import subprocess
    import sys

    from reports.management.commands.run_worker import this_host, worker_identity

    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert finished.returncode == 0
    done = subprocess.Popen(["true"])
    done.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        yield {
            "dead": f"{this_host()}:{done.pid}:1",
            "alive": worker_identity(alive.pid),
            "reused_pid": f"{this_host()}:{alive.pid}:1",  # the pid of a live process that started at another time
        }
    finally:
        alive.kill()
        alive.wait()


def test_the_tasks_of_dead_workers_are_queued_again_and_the_others_left_alone(db, processes):
    from datetime import timedelta

    from django_tasks_db.models import DBTaskResult

    from reports.management.commands.run_worker import recover_orphans, worker_identity

    own = worker_identity()
    tasks = {
        "dead": _task(["elsewhere:1:1", processes["dead"]]),
        "reused_pid": _task([processes["reused_pid"]]),
        "own": _task([own]),  # claimed by this worker, which asks between tasks: not running it any more
        "alive": _task([processes["alive"]]),
        "other_host_recent": _task(["elsewhere:123:456"], started_minutes_ago=5),
        "other_host_stale": _task(["elsewhere:123:456"], started_minutes_ago=120),
        "random_id_stale": _task(["lIbRaRyStYlEwOrKeRiD0123456789ab"], started_minutes_ago=120),
    }

    requeued, failed = recover_orphans(
        backend_name="default", own_id=own, stale_after=timedelta(hours=1), max_attempts=3
    )

    status = {name: DBTaskResult.objects.get(pk=t.pk).status for name, t in tasks.items()}
    assert status == {
        "dead": "READY",
        "reused_pid": "READY",
        "own": "READY",
        "alive": "RUNNING",
        "other_host_recent": "RUNNING",
        "other_host_stale": "READY",
        "random_id_stale": "READY",
    }
    assert sorted(requeued) == sorted(str(tasks[n].pk) for n, s in status.items() if s == "READY")
    assert failed == []
    assert DBTaskResult.objects.get(pk=tasks["dead"].pk).started_at is None


def test_a_task_whose_worker_died_too_often_is_failed_with_its_report(world, processes):
    from datetime import timedelta

    from assessment.models import Campaign
    from assessment.services import methodology_import_file
    from reports.management.commands.run_worker import recover_orphans
    from reports.models import ReportJob

    methodology, _ = methodology_import_file(path="fixtures/methodology_2020.json")
    campaign = Campaign.objects.create(slug="c", title="К", year=2026, methodology=methodology)
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.REGION_PDF, campaign=campaign, region=world.region, status="running", results_key="k"
    )
    task = _task([processes["dead"]] * 3, args=[str(job.pk)])

    requeued, failed = recover_orphans(
        backend_name="default", own_id="me:1:1", stale_after=timedelta(hours=1), max_attempts=3
    )

    task.refresh_from_db()
    job.refresh_from_db()
    assert (requeued, failed) == ([], [str(task.pk)])
    assert task.status == "FAILED" and task.exception_class_path.endswith("WorkerLost")
    assert job.status == ReportJob.Status.FAILED and "stopped 3 times" in job.error


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _bounded_sleep(limit=100):
    """time.sleep for a worker under test: no waiting, and a failure instead of a loop that never ends."""
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        assert len(calls) < limit, "the worker keeps waiting"

    return sleep


def _worker(*, batch):
    """run_worker's worker as the command builds it with its defaults, in this process."""
    from datetime import timedelta

    from reports.management.commands.run_worker import RecoveringWorker, worker_identity

    return RecoveringWorker(
        queue_names=["default"],
        interval=0,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_identity(),
        excluded_queue_names=[],
        recover_every=60,
        stale_after=timedelta(hours=1),
        max_attempts=3,
    )


@pytest.fixture
def keep_connection():
    """The worker closes connections between tasks as a request does; inside a test's transaction that would
    close the test's own connection (on PostgreSQL), so here it keeps it."""
    with mock.patch("reports.management.commands.run_worker.close_old_connections"):
        yield


def test_the_worker_command_runs_the_task_of_a_killed_worker_again(db, settings, processes, keep_connection):
    from django.core.management import call_command

    settings.TASKS = DB_TASKS
    task = _task([processes["dead"]])  # a report task whose job does not exist: it ends at once

    call_command("run_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 2 and task.worker_ids[0] == processes["dead"]


def test_the_worker_waits_out_a_database_outage_and_requeues_what_it_was_running(db, settings, keep_connection):

    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS
    worker = _worker(batch=True)
    # What the outage interrupted: a task this worker had claimed, left RUNNING when the database went away.
    task = _task([worker.worker_id])
    real_claim = worker._claim_next
    calls = []

    def claim():
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("the database system is shutting down")
        return real_claim()

    with (
        mock.patch.object(worker, "_claim_next", side_effect=claim),
        mock.patch.object(worker, "_database_answers", side_effect=lambda: len(calls) > 2),
        mock.patch("time.sleep", side_effect=_bounded_sleep()),
    ):
        worker.run()

    task.refresh_from_db()
    assert len(calls) >= 3
    assert task.status == "SUCCESSFUL"
    assert task.worker_ids == [worker.worker_id, worker.worker_id]
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


def test_a_database_error_that_is_no_outage_still_ends_the_worker(db, settings, keep_connection):
    """A missing table is not waited out: the database answers, the error repeats, the worker stops."""

    worker = _worker(batch=False)
    error = OperationalError("no such table: django_tasks_database_dbtaskresult")

    with (
        mock.patch.object(worker, "_claim_next", side_effect=error) as claim,
        mock.patch("time.sleep", side_effect=_bounded_sleep()),
        pytest.raises(OperationalError),
    ):
        worker.run()

    assert claim.call_count == 3


# --- the health check of a kept connection (config/postgresql) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_is_checked_only_after_it_was_idle_and_a_dead_one_is_replaced(transactional_db):
    from django.db import connections

    from config.postgresql import base

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("the health check is PostgreSQL's")
    assert isinstance(connection, base.DatabaseWrapper)
    connection.ensure_connection()
    connection.health_check_enabled = True
    with connection.cursor() as cursor:  # in use: no check before the next request's first query
        cursor.execute("SELECT 1")
    with mock.patch.object(connection, "is_usable", return_value=True) as checked:
        connection.close_if_unusable_or_obsolete()  # a request starts
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert checked.call_count == 0

    dead = connection.connection
    connection.used_at -= base.IDLE_BEFORE_CHECK + 0.5  # idle since: checked, found dead, replaced
    with mock.patch.object(connection, "is_usable", return_value=False) as checked:
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert checked.call_count == 1 and connection.connection is not dead


def test_a_prepared_statement_is_prepared_once_per_connection_and_again_on_a_new_one(transactional_db):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    sql = "SELECT %s::int + %s::int"

    def run():
        with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
            connection.execute_prepared(cursor, "test_sum", sql, [2, 3])
            value = cursor.fetchone()[0]
        return value, [q["sql"].split(" ", 1)[0] for q in captured.captured_queries]

    first, again = run(), run()
    connection.close()
    reconnected = run()

    assert first == (5, ["PREPARE", "EXECUTE"])
    assert again == (5, ["EXECUTE"])
    assert reconnected == (5, ["PREPARE", "EXECUTE"])


def test_behind_a_transaction_pooler_nothing_is_prepared(transactional_db, monkeypatch):
    """DATABASE_PREPARED_STATEMENTS=0 (PgBouncer in transaction pooling): the statement is executed as it is."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    connection = connections["default"]
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    monkeypatch.setitem(connection.settings_dict, "PREPARED_STATEMENTS", False)

    with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
        connection.execute_prepared(cursor, "test_plain_sum", "SELECT %s::int + %s::int", [2, 3])
        value = cursor.fetchone()[0]

    assert value == 5
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 2::int + 3::int"]

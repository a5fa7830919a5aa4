"""The task worker: django-tasks-db's `db_worker`, plus what it lacks (django-tasks issue #46):

* a task whose worker died in the middle of it (kill -9, out of memory, a host rebooted) stays RUNNING for
  ever and is never run again. This worker finds such orphans when it starts and every --recover-every
  seconds, and puts them back in the queue: at-least-once. Orphaned means its last worker is of this host
  and that process is gone (a worker id is host:pid:start time, so a reused pid is no alibi), or this very
  worker claimed it and is no longer running it (the database went away under it), or, for a worker of
  another host, it has been RUNNING longer than --stale-after. A task claimed --max-attempts times that is
  orphaned again is marked FAILED instead (and so is its report, for a report task): a task that kills
  its worker must not kill every worker after it;
* a database that goes away for a moment (a restart, a failover) does not end the worker: it waits, then
  carries on, and whatever it was running is put back in the queue. A database error while the database
  answers (a missing table) still ends it, at the third time in a row.

`manage.py run_worker` takes every option of `db_worker`. `make run` and production use this one."""

import contextlib
import logging
import os
import socket
import time
from datetime import timedelta

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from reports.models import ReportJob

log = logging.getLogger("django_tasks_db")

DATABASE_ERRORS = (OperationalError, InterfaceError)
REPORT_TASK = "reports.tasks.render_report_task"
ERRORS_BEFORE_GIVING_UP = 3  # database errors in a row while the database answers: a bug, not an outage


class WorkerLost(Exception):
    """The worker running the task disappeared, too many times."""


# --- who is running a task -----------------------------------------------------------------------------------


def _start_time(pid):
    """The process's start time in clock ticks since boot (Linux), or None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def this_host():
    return socket.gethostname()[:40].replace(":", "-")


def worker_identity(pid=None):
    """host:pid:start — unique on this host for as long as the process lives (and after, as pids go round)."""
    pid = pid or os.getpid()
    return f"{this_host()}:{pid}:{_start_time(pid) or get_random_string(12)}"


def _process_alive(pid, start):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    current = _start_time(pid)
    return current is None or current == start


def worker_gone(worker_id, *, own_id):
    """True when the worker is known to be gone; None when it cannot be told from here (another host, or an id
    in another format)."""
    if worker_id == own_id:
        return True  # asked between tasks: whatever this worker claimed, it is not running it any more
    try:
        host, pid, start = worker_id.rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return None
    if host != this_host():
        return None
    if pid == os.getpid():
        return True  # this pid is this worker, and the id is not its own: an earlier process
    return not _process_alive(pid, start)


# --- recovery ------------------------------------------------------------------------------------------------


def _give_up(task, now):
    message = f"The worker running this task stopped {len(task.worker_ids)} times; not retried again."
    updated = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at)
    if not updated.update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        return_value=None,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}: {message}\n",
    ):
        return False
    if task.task_path == REPORT_TASK and task.args_kwargs.get("args"):
        ReportJob.objects.filter(pk=task.args_kwargs["args"][0], status__in=ReportJob.ACTIVE).update(
            status=ReportJob.Status.FAILED, error=message, finished_at=now
        )
    return True


def recover_orphans(*, backend_name, own_id, stale_after, max_attempts, now=None):
    """Put the orphaned RUNNING tasks of the backend back in the queue (or fail them after max_attempts).
    Returns (requeued ids, failed ids). Each change is conditional on the task still being in the claim it
    was found in, so that two workers recovering at once never both act on one task."""
    now = now or timezone.now()
    requeued, failed = [], []
    running = DBTaskResult.objects.filter(backend_name=backend_name, status=TaskResultStatus.RUNNING)
    for task in running.only("id", "worker_ids", "started_at", "task_path", "args_kwargs"):
        last = task.worker_ids[-1] if task.worker_ids else ""
        gone = worker_gone(last, own_id=own_id) if last else None
        if gone is None:
            gone = task.started_at is None or task.started_at < now - stale_after
        if not gone:
            continue
        if len(task.worker_ids) >= max_attempts:
            if _give_up(task, now):
                failed.append(str(task.pk))
                log.error("Task id=%s path=%s: its worker was lost %d times; marked failed",
                          task.pk, task.task_path, len(task.worker_ids))  # fmt: skip
            continue
        claim = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at)
        if claim.update(status=TaskResultStatus.READY, started_at=None):
            requeued.append(str(task.pk))
            log.warning("Task id=%s path=%s: its worker %s is gone or stopped running it; queued again (attempt %d of %d)",
                        task.pk, task.task_path, last, len(task.worker_ids) + 1, max_attempts)  # fmt: skip
    return requeued, failed


# --- the worker ----------------------------------------------------------------------------------------------


class RecoveringWorker(db_worker.Worker):
    """db_worker's loop, with recovery of orphans and a database outage survived."""

    def __init__(self, *, recover_every, stale_after, max_attempts, **kwargs):
        super().__init__(**kwargs)
        self.recover_every = recover_every
        self.stale_after = stale_after
        self.max_attempts = max_attempts
        self.recovered_at = None
        self.outage_started = None
        self.errors_with_database_up = 0

    def recover(self):
        requeued, failed = recover_orphans(
            backend_name=self.backend_name,
            own_id=self.worker_id,
            stale_after=self.stale_after,
            max_attempts=self.max_attempts,
        )
        self.recovered_at = time.monotonic()
        return requeued, failed

    @staticmethod
    def _database_answers():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DATABASE_ERRORS:
            return False

    def _claim_next(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result, True
            except OperationalError as exc:
                if is_locked_database_exception(exc):  # SQLite: another worker has it; try again
                    return None, False
                raise

    def _step(self):
        """One turn of the loop: True to go on at once, False to wait, None to stop."""
        close_old_connections()
        if self.recovered_at is None or time.monotonic() - self.recovered_at >= self.recover_every:
            self.recover()
        if self.outage_started is not None:
            log.warning("Database back after %.1f s", time.monotonic() - self.outage_started)
            self.outage_started = None
        task_result, retrieved = self._claim_next()
        if task_result is not None:
            self.run_task(task_result)
        if self.batch and retrieved and task_result is None:
            log.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
            return None
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            log.info("Run maximum tasks (%d) on worker=%s - exiting gracefully.", self._run_tasks, self.worker_id)
            return None
        close_old_connections()
        return task_result is not None

    def run(self):
        log.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            time.sleep(os.getpid() % 1000 / 1000)  # a small spread against a thundering herd
        pause = 0.5
        while self.running:
            try:
                busy = self._step()
            except DATABASE_ERRORS as exc:
                if self._database_answers():
                    # Not an outage (a missing table, say): the same error again and again ends the worker.
                    self.errors_with_database_up += 1
                    if self.errors_with_database_up >= ERRORS_BEFORE_GIVING_UP:
                        raise
                    log.warning("Database error (%s); trying again", str(exc).strip())
                else:
                    self.errors_with_database_up = 0
                    if self.outage_started is None:
                        self.outage_started = time.monotonic()
                        log.warning("Database unavailable (%s); the worker waits for it", str(exc).strip())
                with contextlib.suppress(*DATABASE_ERRORS):  # close() lets go of a broken connection anyway
                    close_old_connections()
                self.recovered_at = None  # once it is back: whatever this worker was running goes back in the queue
                time.sleep(pause)
                pause = min(pause * 2, 5)
                continue
            pause, self.errors_with_database_up = 0.5, 0
            if busy is None:
                return
            if self.running and not busy:
                time.sleep(self.interval)


class Command(db_worker.Command):
    help = "Run the task worker: db_worker that also re-queues the tasks of workers that died, and outlives a database restart"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=worker_identity())
        parser.add_argument(
            "--recover-every",
            type=float,
            default=60,
            help="Look for tasks of dead workers every this many seconds (default: %(default)s)",
        )
        parser.add_argument(
            "--stale-after",
            type=float,
            default=3600,
            help="A RUNNING task of a worker on another host is taken as orphaned after this many seconds "
            "(default: %(default)s)",
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=3,
            help="A task whose worker died this many times is marked failed, not queued again (default: %(default)s)",
        )

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, recover_every, stale_after, max_attempts, **options):  # fmt: skip
        # db_worker's handle(), with this module's worker.
        self.configure_logging(verbosity)
        if reload and batch:
            log.warning("Warning: --reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = RecoveringWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
            recover_every=recover_every,
            stale_after=timedelta(seconds=stale_after),
            max_attempts=max(1, max_attempts),
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child that runs the worker
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()

"""What the load benchmarks share: a free port, the test database's URL, gunicorn in production mode with
2 workers, and the CPU time of its workers and of the PostgreSQL backends (a figure other load on the
machine hardly moves, unlike a rate)."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
WORKERS = int(os.environ.get("BENCH_WORKERS") or 2)
SECRET_KEY = "bench-secret-key-" + "x" * 48  # the server's; sessions made by a benchmark are signed with it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for(name):
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def server_env(database_url, port=None, extra=None):
    """The environment of the production server (and of its task worker): DEBUG=0, this file's SECRET_KEY."""
    env = {k: v for k, v in os.environ.items() if k not in {"TESTING", "DEMO", "GUNICORN_CMD_ARGS"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_ACCESSLOG="-",  # the production default: one access line per request, here into the log file
    )
    if port is not None:
        env["PORT"] = str(port)
    env.update(DEFAULT_FROM_EMAIL="МУКО <noreply@muko.example.ru>", SITE_URL=f"http://127.0.0.1:{port or 8000}")
    env.pop("GUNICORN_BIND", None)
    env.update(extra or {})
    return env


def collectstatic(env):
    """Production serves static files from the manifest: without it any page with a template fails. Started,
    not waited for: the caller may build its data meanwhile, then wait()."""
    return subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env)


def start_gunicorn(port, database_url, log_path, extra_env=None, collect_static=True):
    env = server_env(database_url, port, extra_env)
    if collect_static and collectstatic(env).wait() != 0:
        raise RuntimeError("collectstatic failed")
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def gunicorn_workers(master_pid):
    """The pids of the master's worker processes."""
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = CpuMeter._stat(pid)
        if stat is not None and stat[0] == master_pid:
            pids.add(int(pid))
    return pids


def start_task_worker(database_url, log_path, extra_env=None):
    """The task worker as production runs it (`manage.py run_worker`), polling every half second."""
    log = log_path.open("a")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.5", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=server_env(database_url, extra=extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_gunicorn(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class CpuMeter:
    """CPU seconds used between start() and stop() by the gunicorn workers and by the PostgreSQL backends of
    the test database. Workers: their own times plus what the master reaped (a recycled worker's whole life)
    minus what the workers alive at the start had used before. Backends: sampled, as a backend ends with its
    worker."""

    def __init__(self, master_pid, database):
        self.master, self.database = master_pid, database
        self.backends_first, self.backends_last = {}, {}
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _stat(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # after the command: state ppid ... utime(11) stime(12) cutime(13) cstime(14), in clock ticks
        return int(fields[1]), [int(v) / os.sysconf("SC_CLK_TCK") for v in fields[11:15]]

    def _processes(self):
        workers, backends = {}, {}
        marker = f" {self.database} "
        for pid in filter(str.isdigit, os.listdir("/proc")):
            stat = self._stat(pid)
            if stat is None:
                continue
            if stat[0] == self.master:
                workers[pid] = stat[1][0] + stat[1][1]
            else:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if cmdline.startswith("postgres:") and marker in cmdline:
                    backends[pid] = stat[1][0] + stat[1][1]
        reaped = sum(self._stat(self.master)[1][2:4])
        return workers, backends, reaped

    def _sample(self):
        while True:
            _, backends, _ = self._processes()
            for pid, cpu in backends.items():
                self.backends_first.setdefault(pid, 0.0)
                self.backends_last[pid] = cpu
            if self.stopping.wait(0.25):
                return

    def start(self):
        self.workers_start, backends, self.reaped_start = self._processes()
        self.backends_first.update(backends)
        self.sampler.start()

    def stop(self):
        workers_end, _, reaped_end = self._processes()
        self.stopping.set()
        self.sampler.join()
        app = sum(workers_end.values()) + reaped_end - self.reaped_start - sum(self.workers_start.values())
        db = sum(self.backends_last[pid] - first for pid, first in self.backends_first.items())
        return app, db


def server_log_tail(directory, skip=""):
    """The last lines of the server's log, printed when a benchmark fails (its side of the failure)."""
    log = directory / "gunicorn.log"
    if log.exists():
        lines = [line for line in log.read_text().splitlines(keepends=True) if not skip or skip not in line]
        print("".join(lines[-40:]), file=sys.stderr)  # noqa: T201


def tear_down(gunicorn, connection, original_name, directory):
    """Stop the server, drop the test database, remove the work folder (kept with BENCH_KEEP_DIR=1)."""
    if gunicorn is not None:
        stop_gunicorn(gunicorn)
    connection.creation.destroy_test_db(original_name, verbosity=0)
    if os.environ.get("BENCH_KEEP_DIR") == "1":
        print(f"kept {directory}", file=sys.stderr)  # noqa: T201
    else:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)

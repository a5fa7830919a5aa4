"""Start-up: production refuses to start half-configured, and says why in one line."""

import os
import runpy
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

STRONG_KEY = "x7#kq2!vz9@m4p$w8r&t1y^u6i*o3e(a5s)d0f-g+h=j_k~l;zQWERTYUIOPASDFGHJ"
MAIL = {"DEFAULT_FROM_EMAIL": "МУКО <noreply@muko.example.ru>", "SITE_URL": "https://muko.example.ru"}


def manage(*args, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": STRONG_KEY}, "ALLOWED_HOSTS"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
    ],
)
def test_bad_configuration_is_one_clear_line(env, mentions):
    result = manage("check", **env)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert mentions in result.stderr


def test_an_unreachable_database_is_one_clear_line():
    result = manage("migrate", DEBUG="1", DATABASE_URL="postgres://nobody@127.0.0.1:9/none")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_production_passes_the_deployment_checklist():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="muko.example.ru",
        **MAIL,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers_on_every_page(client, db):
    response = client.get(reverse("login"))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_healthz_touches_neither_database_nor_session(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert "Set-Cookie" not in response.headers and not response.cookies


def test_the_ui_is_russian_by_default(client, db):
    response = client.get(reverse("login"))

    assert '<html lang="ru">' in response.content.decode()
    assert "Войти" in response.content.decode()


def test_several_app_servers_share_files_and_cache_through_the_environment():
    """S3_BUCKET puts uploads and reports on S3-compatible storage; CACHE_URL the cache in Redis."""
    probe = (
        "from django.core.files.storage import storages; from django.conf import settings; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, settings.CACHES['default']['BACKEND'])"
    )
    done = manage(
        "shell",
        "-c",
        probe,
        DEBUG="1",
        S3_BUCKET="muko-files",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].split() == [
        "S3Storage",
        "muko-files",
        "django.core.cache.backends.redis.RedisCache",
    ]
    bad = manage("check", DEBUG="1", CACHE_URL="memcached://x")
    assert bad.returncode != 0 and "CACHE_URL" in bad.stderr


def test_production_refuses_a_short_secret_key():
    short = manage("check", DEBUG="0", SECRET_KEY="k" * 20 + "short-but-not-empty", ALLOWED_HOSTS="muko.example.ru")
    just_enough = manage("check", DEBUG="0", SECRET_KEY=STRONG_KEY[:50], ALLOWED_HOSTS="muko.example.ru", **MAIL)
    development = manage("check", DEBUG="1", SECRET_KEY="short")

    assert short.returncode != 0
    assert "Traceback" not in short.stderr
    assert len(short.stderr.strip().splitlines()) == 1, short.stderr
    assert "SECRET_KEY" in short.stderr and "50" in short.stderr and "слишком короткий" in short.stderr
    assert just_enough.returncode == 0, just_enough.stderr
    assert development.returncode == 0, development.stderr


def test_a_negative_proxy_count_is_one_clear_line():
    result = manage("check", DEBUG="1", PROXY_COUNT="-1")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "PROXY_COUNT" in result.stderr


def test_gunicorn_forks_warm_workers_from_a_preloaded_master():
    conf = runpy.run_path(str(settings.BASE_DIR / "config" / "gunicorn.conf.py"))
    # A fresh interpreter: what the master holds once config.wsgi is loaded, before any request.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, config.wsgi; print('reports.views' in sys.modules)"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]

    assert conf["preload_app"] is True and conf["max_requests"] >= 10_000
    assert loaded == "True"


def test_prepared_statements_are_turned_off_for_a_transaction_pooler():
    probe = "from django.conf import settings; print(settings.DATABASES['default']['PREPARED_STATEMENTS'])"
    default = manage("shell", "-c", probe, DEBUG="1")
    pooled = manage("shell", "-c", probe, DEBUG="1", DATABASE_PREPARED_STATEMENTS="0")
    bad = manage("check", DEBUG="1", DATABASE_PREPARED_STATEMENTS="maybe")

    assert default.stdout.split()[-1] == "True" and pooled.stdout.split()[-1] == "False", pooled.stderr
    assert bad.returncode != 0 and "DATABASE_PREPARED_STATEMENTS" in bad.stderr

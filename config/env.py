"""Reading the environment for settings, with one clear message when it is wrong."""

import os
from email.utils import parseaddr
from urllib.parse import urlsplit

import dj_database_url


class ConfigError(Exception):
    """A setting is missing or malformed; manage.py and wsgi.py print it as one line."""


def flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r}: ожидается 0 или 1 (expected 0 or 1)")


def text(name, default=""):
    return os.environ.get(name, default).strip()


def integer(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: ожидается целое число (expected an integer)") from None


def listing(name, default=()):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


def database(url, sqlite_path):
    """Parse DATABASE_URL; an empty value means the embedded SQLite file."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ConfigError(
            f"DATABASE_URL: неподдерживаемая схема «{scheme}»; ожидается postgres://… или sqlite:///… "
            "(unsupported scheme)"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # the library raises several kinds on malformed URLs
        raise ConfigError(f"DATABASE_URL не разобран: {exc} (malformed DATABASE_URL)") from None
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    elif config["ENGINE"].endswith("postgresql"):
        config["ENGINE"] = "config.postgresql"  # Django's, checking an idle connection only (config/postgresql)
    elif not config.get("NAME"):
        raise ConfigError("DATABASE_URL: не указано имя базы данных (database name missing)")
    return config


def require_sender(name, value):
    """A From address mail can come from: a real domain (with a dot), not localhost; a display name is optional
    (Django encodes a Cyrillic one per RFC 2047)."""
    _display, address = parseaddr(value)
    domain = address.rpartition("@")[2].lower() if "@" in address else ""
    if not value or "." not in domain or domain.endswith((".localhost", ".local")) or domain.startswith("."):
        raise ConfigError(
            f"DEBUG=0 (рабочий режим): задайте {name} с настоящим адресом отправителя, например "
            f'"МУКО <noreply@muko.example.ru>" (сейчас: {value or "не задан"}; production needs a real sender)'
        )


def require_site_url(name, value):
    """The address of the site as people open it: every link in every e-mail is built from it."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"DEBUG=0 (рабочий режим): задайте {name} — адрес сайта, из которого строятся ссылки в письмах, например "
            f"https://muko.example.ru (сейчас: {value or 'не задан'}; production needs the site's address)"
        )

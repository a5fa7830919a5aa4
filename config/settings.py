"""Settings for the whole product, read from the environment (see README, «Переменные окружения»)."""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from config import env
from config.env import ConfigError

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.text("VAR_DIR") or BASE_DIR / "var")

DEBUG = env.flag("DEBUG", default=False)
DEMO = env.flag("DEMO", default=False)
TESTING = env.flag("TESTING", default=False)

SECRET_KEY = env.text("SECRET_KEY")
ALLOWED_HOSTS = env.listing("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-used-in-production-0123456789abcdef"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"DEBUG=0 (рабочий режим): задайте {' и '.join(missing)} "
            "или запустите с DEBUG=1 для разработки (production mode needs these variables)"
        )
    # A short key can be guessed offline from any signed cookie or password-reset link, and then forges both.
    if len(SECRET_KEY) < 50:
        raise ConfigError(
            f"DEBUG=0 (рабочий режим): SECRET_KEY слишком короткий ({len(SECRET_KEY)} символов), нужно не меньше 50 "
            "(SECRET_KEY must be at least 50 characters long)"
        )
CSRF_TRUSTED_ORIGINS = env.listing("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "municipalities",
    "assessment",
    "surveys",
    "reports",
    "fixtures",
]

MIDDLEWARE = [
    "config.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware_db.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.ControlCharacterPathMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "config.context_processors.product",
            ],
        },
    },
]

DATABASES = {"default": env.database(env.text("DATABASE_URL"), BASE_DIR / "db.sqlite3")}
# Off behind PgBouncer in transaction pooling: a statement prepared on one server connection is unknown to the next.
DATABASES["default"]["PREPARED_STATEMENTS"] = env.flag("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3

# django-axes: 5 failures for one username from one address lock that pair for half an hour;
# locking a username alone would let anyone lock out a coordinator on deadline day.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Reverse proxies in front (nginx: 1). django-ipware is not installed, so axes would key on REMOTE_ADDR, the
# proxy's address, and one stranger could lock a login for everyone: config.client_ip reads X-Forwarded-For.
PROXY_COUNT = env.integer("PROXY_COUNT", 0)
if PROXY_COUNT < 0:
    raise ConfigError(f"PROXY_COUNT={PROXY_COUNT}: ожидается 0 или больше (expected 0 or more)")
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_VERBOSE = False

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.text("TIME_ZONE") or "Europe/Moscow"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "lang"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.text("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Several app servers share nothing on local disk: uploaded evidence and made reports go to an S3-compatible
# bucket when S3_BUCKET is set (django-storages), and the cache to Redis when CACHE_URL is set. The default
# (local files, a cache per process) is right for one machine; cached values are keyed by what they depend
# on, so a per-process cache is never wrong, only less shared.
if env.text("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.text("S3_BUCKET"),
            "endpoint_url": env.text("S3_ENDPOINT_URL") or None,
            "region_name": env.text("S3_REGION") or None,
            "access_key": env.text("S3_ACCESS_KEY") or None,
            "secret_key": env.text("S3_SECRET_KEY") or None,
            "location": env.text("S3_PREFIX"),
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
if env.text("CACHE_URL"):
    if not env.text("CACHE_URL").startswith(("redis://", "rediss://")):
        raise ConfigError("CACHE_URL: ожидается redis://… (expected a Redis URL)")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.text("CACHE_URL")}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "municipalities.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API needs inline scripts, which the CSP forbids.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    # ASCII: code generators make the client's package name of it (openapi-python-client: muko-api-client).
    "TITLE": "MUKO API",
    "DESCRIPTION": "Read-only API of МУКО, the assessment of municipal mechanisms of education quality management "
    "(оценка муниципальных механизмов управления качеством образования).",
    "VERSION": "1.0.0",
    # 3.1: a nullable field is plain JSON Schema (`"type": ["integer", "null"]`, `oneOf: [$ref, {"type": "null"}]`),
    # which strict validators and generated clients read alike; 3.0's `nullable` beside a `$ref` means nothing.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "municipalities.api.schema_nulls"],
    # One name per choice set, whichever field uses it: generated clients get one Level type, one Stage type.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "assessment.models.LevelBand.Level",
        "StageEnum": "assessment.models.Stage",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Uploaded evidence: the formats the seeds' organizers actually publish, and a size a regional order fits in.
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_EXTENSIONS = {".pdf", ".docx", ".xlsx", ".odt", ".ods", ".png", ".jpg", ".jpeg"}
# What one form may hold (removed files not counted): a careless or hostile user cannot fill the disk.
UPLOAD_MAX_FILES_PER_ANSWER = 10
UPLOAD_MAX_FILES_PER_SUBMISSION = 200
UPLOAD_MAX_BYTES_PER_SUBMISSION = 200 * 1024 * 1024
# Removed files stay this long (an earlier round may have been scored on them), then purge_removed_files deletes them.
REMOVED_FILES_RETENTION_DAYS = 90
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_BYTES = 20 * 1024 * 1024

# Evidence-link checker. Private, loopback and link-local targets are refused unless allowed (tests, intranets).
LINKCHECK_ENABLED = env.flag("LINKCHECK_ENABLED", default=True)
LINKCHECK_ALLOW_PRIVATE = env.flag("LINKCHECK_ALLOW_PRIVATE", default=False)
LINKCHECK_TIMEOUT = 10
LINKCHECK_MAX_BYTES = 5 * 1024 * 1024
LINKCHECK_DEAD_AFTER_FAILURES = 3
LINKCHECK_DEAD_AFTER = timedelta(hours=24)

EMAIL_BACKEND = env.text("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env.text("EMAIL_HOST") or "localhost"
EMAIL_PORT = env.integer("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.text("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.text("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.flag("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.flag("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL") or "МУКО <noreply@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = (env.text("SITE_URL") or f"http://127.0.0.1:{env.integer('PORT', 8000)}").rstrip("/")
if not DEBUG:
    # Mail from noreply@localhost is refused or put in spam by every mailbox provider, and links to 127.0.0.1 in
    # reminders, password letters and one-click unsubscribes lead nowhere: production says so instead of starting.
    env.require_sender("DEFAULT_FROM_EMAIL", env.text("DEFAULT_FROM_EMAIL"))
    env.require_site_url("SITE_URL", env.text("SITE_URL"))

# Security. The same headers in development so that a violation shows up before production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL") or "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every page it lays out at INFO: noise in the worker's log.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

if TESTING:
    # Hashing at production strength costs a second per user created; tests create hundreds.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run at once inside the test; link checks only where a test asks for them (no network here).
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    LINKCHECK_ENABLED = False
    MEDIA_ROOT = VAR_DIR / "test-media"

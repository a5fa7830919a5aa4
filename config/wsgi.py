import os
import sys

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver
from django.utils import translation

from config.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
try:
    application = get_wsgi_application()
except ConfigError as exc:
    sys.exit(f"Ошибка настройки: {exc}")


def warm_up():
    """What every worker would otherwise load on its first request: the URLconf with every view module it imports,
    and the translation catalogues. gunicorn loads this module once in its master (preload_app) and forks the
    workers from it, so a worker started again (max_requests) serves at once."""
    get_resolver().url_patterns  # noqa: B018 (imports the URLconf)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Service temporarily unavailable")


warm_up()

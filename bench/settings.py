"""The production settings with the benchmarks' own URLconf (bench/urls.py): the product's URLs plus the
baselines that exist only for measuring. Used by bench/reports_bench.py's server (DJANGO_SETTINGS_MODULE)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

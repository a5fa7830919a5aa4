"""Background work of the assessment, run by the task worker (`manage.py run_worker`)."""

from django.conf import settings
from django.db import transaction
from django_tasks import task

from assessment import linkcheck


@task()
def check_links_task(link_ids, reason):
    linkcheck.check_links(link_ids, reason)


def schedule_link_checks(link_ids, reason):
    """Check links after the transaction that saved them commits (the worker must see the rows)."""
    ids = [int(i) for i in link_ids]
    if ids and settings.LINKCHECK_ENABLED:
        transaction.on_commit(lambda: check_links_task.enqueue(ids, reason))

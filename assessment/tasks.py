"""Background work, run by the task worker (`manage.py db_worker`)."""

from django.conf import settings
from django.core import mail
from django.db import transaction
from django_tasks import task

from assessment import linkcheck


@task()
def check_links_task(link_ids, reason):
    linkcheck.check_links(link_ids, reason)


@task()
def send_mail_task(messages):
    """messages: [{"to": [...], "subject": ..., "body": ..., "html": ... (optional)}]; one connection for all."""
    with mail.get_connection() as connection:
        for m in messages:
            message = mail.EmailMultiAlternatives(m["subject"], m["body"], to=m["to"], connection=connection)
            if m.get("html"):
                message.attach_alternative(m["html"], "text/html")
            message.send()


def schedule_link_checks(link_ids, reason):
    """Check links after the transaction that saved them commits (the worker must see the rows)."""
    ids = [int(i) for i in link_ids]
    if ids and settings.LINKCHECK_ENABLED:
        transaction.on_commit(lambda: check_links_task.enqueue(ids, reason))


def schedule_mail(messages):
    messages = [m for m in messages if m["to"]]
    if messages:
        transaction.on_commit(lambda: send_mail_task.enqueue(messages))

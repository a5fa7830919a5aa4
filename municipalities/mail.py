"""E-mail, the ground floor's: every message of the product (to users through notifications, to schools with
their survey links) is rendered by `email_message` from templates/emails/ and sent by the task worker after the
transaction that decided it commits (`schedule_mail`), one SMTP connection per batch."""

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task


def email_message(to, subject, body, path="", *, greeting="", settings_link=True):
    """One e-mail with a text and an HTML part, both from templates/emails/."""
    context = {
        "subject": subject,
        "greeting": greeting,
        "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        "body": body,
        "url": f"{settings.SITE_URL}{path}" if path else "",
        "settings_url": f"{settings.SITE_URL}{reverse('notification_settings')}" if settings_link else "",
        "site_url": settings.SITE_URL,
    }
    return {
        "to": list(to),
        "subject": subject,
        "body": render_to_string("emails/message.txt", context),
        "html": render_to_string("emails/message.html", context),
    }


@task()
def send_mail_task(messages):
    """messages: [{"to": [...], "subject": ..., "body": ..., "html": ... (optional)}]; one connection for all."""
    with mail.get_connection() as connection:
        for m in messages:
            message = mail.EmailMultiAlternatives(m["subject"], m["body"], to=m["to"], connection=connection)
            if m.get("html"):
                message.attach_alternative(m["html"], "text/html")
            message.send()


def schedule_mail(messages):
    """Send after the current transaction commits: a rolled-back decision sends nothing."""
    messages = [m for m in messages if m["to"]]
    if messages:
        transaction.on_commit(lambda: send_mail_task.enqueue(messages))

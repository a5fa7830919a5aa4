"""E-mail, the ground floor's: every message of the product (to users through notifications, to schools with
their survey links) is rendered by `email_message` from templates/emails/ and sent by the task worker after the
transaction that decided it commits (`schedule_mail`), one SMTP connection per batch.

Every message is marked automatic (RFC 3834), so that vacation responders and auto-forwarders do not answer it.
A message a person may turn off also carries a one-click unsubscribe (RFC 8058): `List-Unsubscribe` with a
signed link naming the person and the kind of mail, and `List-Unsubscribe-Post`, which mailbox providers that
take mail from bulk senders (207 schools and their organizers on reminder day) expect."""

from datetime import timedelta

from django.conf import settings
from django.core import mail, signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

AUTOMATIC_HEADERS = {
    # RFC 3834: made by a program, not written by a person; responders must not answer it.
    "Auto-Submitted": "auto-generated",
    # Exchange and Outlook go by their own header for out-of-office replies, not by Auto-Submitted.
    "X-Auto-Response-Suppress": "OOF, AutoReply",
}
ONE_CLICK = "List-Unsubscribe=One-Click"

# The link names the person and the kind of mail, signed with SECRET_KEY under a salt of its own: no other signed
# value of the product (a session, a password-reset link) can stand in for it, and it cannot be made for someone
# else. A year covers any message still sitting in a mailbox; an older one leads to the settings page instead.
UNSUBSCRIBE_SALT = "municipalities.mail.unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=366)


def unsubscribe_token(user_id, kind):
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_read(token):
    """(user id, kind) of a valid unsubscribe token, else None (forged, of another purpose, too old, malformed)."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(value, dict) or not isinstance(value.get("u"), int) or not isinstance(value.get("k"), str):
        return None
    return value["u"], value["k"]


def unsubscribe_url(user_id, kind):
    return f"{settings.SITE_URL}{reverse('unsubscribe', args=[unsubscribe_token(user_id, kind)])}"


def unsubscribe_headers(user_id, kind):
    return {"List-Unsubscribe": f"<{unsubscribe_url(user_id, kind)}>", "List-Unsubscribe-Post": ONE_CLICK}


def email_message(to, subject, body, path="", *, greeting="", settings_link=True, unsubscribe=None):
    """One e-mail with a text and an HTML part, both from templates/emails/.

    `unsubscribe`: (user id, kind) when the recipient is a person who may turn this kind of mail off; the message
    then carries the one-click unsubscribe for exactly that.

    Mail to an address that is no person's account — a school's official address getting its survey links and
    reminders — has none, on purpose. Those are service messages of the procedure the regional order sets (the
    school takes part as an institution), not mail anyone subscribed to; the rules of mailbox providers ask for a
    one-click unsubscribe on subscribed and marketing mail, not on such transactional mail. There is no person whose
    settings a click could change, and one click by whoever reads the school's shared mailbox, or by a link
    scanner, must not stop the survey for the three respondents the links are for. A `mailto:` unsubscribe would
    need a mailbox someone reads and acts on, which the platform has not. They are still marked automatic."""
    context = {
        "subject": subject,
        "greeting": greeting,
        "paragraphs": [p for p in body.split("\n\n") if p.strip()],
        "body": body,
        "url": f"{settings.SITE_URL}{path}" if path else "",
        "settings_url": f"{settings.SITE_URL}{reverse('notification_settings')}" if settings_link else "",
        "site_url": settings.SITE_URL,
    }
    message = {
        "to": list(to),
        "subject": subject,
        "body": render_to_string("emails/message.txt", context),
        "html": render_to_string("emails/message.html", context),
    }
    if unsubscribe:
        message["headers"] = unsubscribe_headers(*unsubscribe)
    return message


@task()
def send_mail_task(messages):
    """messages: [{"to": [...], "subject": ..., "body": ..., "html": ... (optional), "headers": {...} (optional)}];
    one connection for all. Every message goes out marked automatic."""
    with mail.get_connection() as connection:
        for m in messages:
            message = mail.EmailMultiAlternatives(
                m["subject"],
                m["body"],
                to=m["to"],
                connection=connection,
                headers={**AUTOMATIC_HEADERS, **m.get("headers", {})},
            )
            if m.get("html"):
                message.attach_alternative(m["html"], "text/html")
            message.send()


def schedule_mail(messages):
    """Send after the current transaction commits: a rolled-back decision sends nothing."""
    messages = [m for m in messages if m["to"]]
    if messages:
        transaction.on_commit(lambda: send_mail_task.enqueue(messages))

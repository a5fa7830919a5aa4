"""Notifications: the one way an event reaches people — under the bell in the product and by e-mail.

Every service that e-mails users calls `notify`; e-mails to schools (survey links), which are not users, go
through `municipalities.mail` directly, with the same templates."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from municipalities.mail import email_message, schedule_mail, unsubscribe_headers, unsubscribe_read
from municipalities.models import CalendarFeed, Notification, NotificationSettings

# The kind an unsubscribe from the daily digest turns off: every kind it gathers.
EVERY_KIND = "all"


def _settings_of(user_ids):
    return {s.user_id: s for s in NotificationSettings.objects.filter(user_id__in=user_ids)}


def notify(users, kind, title, body="", path="", *, email_body=None, email_path=None):
    """Tell each of `users` about an event: an unread notification for each, and an e-mail now to those who
    want this kind e-mailed and take no digest; the others' e-mails wait for the digest.

    `email_body` and `email_path` replace the body and the link in the e-mail only: what must not be stored
    (a password link) goes there."""
    users = list({u.pk: u for u in users if u is not None}.values())
    if not users:
        return []
    chosen = _settings_of([u.pk for u in users])
    now = timezone.now()
    rows, mails = [], []
    for user in users:
        prefs = chosen.get(user.pk) or NotificationSettings(user=user)
        wants = prefs.emails(kind) and bool(user.email)
        at_once = wants and (not prefs.digest or kind in Notification.ALWAYS_EMAILED)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                title=title[:300],
                body=body,
                path=path,
                created_at=now,
                emailed_at=now if at_once else None,
                email_pending=wants and not at_once,
            )
        )
        if at_once:
            mails.append(
                email_message(
                    [user.email],
                    title,
                    email_body if email_body is not None else body,
                    email_path if email_path is not None else path,
                    greeting=user.get_full_name() or user.username,
                    # What is always e-mailed (the link to set a password) offers no unsubscribe: it would not work.
                    unsubscribe=None if kind in Notification.ALWAYS_EMAILED else (user.pk, kind),
                )
            )
    created = Notification.objects.bulk_create(rows)
    schedule_mail(mails)
    return created


def unread_count(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, pks=None):
    """Mark the user's notifications read (all of them, or those of `pks`); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    return unread.update(read_at=timezone.now())


def settings_for(user):
    return NotificationSettings.objects.filter(user=user).first() or NotificationSettings(user=user)


@transaction.atomic
def settings_save(*, user, email_kinds, digest):
    """email_kinds: the kinds the user wants e-mailed. Kinds that are always e-mailed stay on."""
    prefs = settings_for(user)
    prefs.email_off = sorted(
        k for k in Notification.Kind.values if k not in set(email_kinds) and k not in Notification.ALWAYS_EMAILED
    )
    prefs.digest = bool(digest)
    prefs.save()
    return prefs


def unsubscribe_target(token):
    """(user, kind) an unsubscribe link names, when the link is valid and names a kind that can be turned off and
    an account that exists; else None."""
    found = unsubscribe_read(token)
    if found is None:
        return None
    user_id, kind = found
    if kind != EVERY_KIND and (kind not in Notification.Kind.values or kind in Notification.ALWAYS_EMAILED):
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    return None if user is None else (user, kind)


def kind_label(kind):
    return _("every e-mail of the daily digest") if kind == EVERY_KIND else Notification.Kind(kind).label


@transaction.atomic
def email_turn_off(*, user, kind):
    """The one-click unsubscribe: stop e-mailing `kind` (EVERY_KIND: every kind that can be turned off) to `user`;
    the rest of their choices stays as it was, and the events still show under the bell."""
    prefs, _created = NotificationSettings.objects.select_for_update().get_or_create(user=user)
    kinds = [k for k in Notification.Kind.values if k not in Notification.ALWAYS_EMAILED]
    off = set(prefs.email_off) | (set(kinds) if kind == EVERY_KIND else {kind})
    if off != set(prefs.email_off):
        prefs.email_off = sorted(off)
        prefs.save(update_fields=["email_off"])
    return prefs


def digests_send():
    """E-mail each person who takes the digest one message with everything that waited since the last one.
    Returns the number of digests sent. Run daily (`manage.py send_digests`)."""
    pending = list(
        Notification.objects.filter(email_pending=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "created_at", "pk")
    )
    by_user = {}
    for n in pending:
        by_user.setdefault(n.user, []).append(n)
    mails = []
    for user, items in by_user.items():
        subject = ngettext("Daily digest: %(n)s new event", "Daily digest: %(n)s new events", len(items)) % {
            "n": len(items)
        }
        context = {
            "subject": subject,
            "greeting": user.get_full_name() or user.username,
            "items": [
                {
                    "title": n.title,
                    "body": n.body,
                    "created_at": n.created_at,
                    "url": f"{settings.SITE_URL}{n.path}" if n.path else "",
                }
                for n in items
            ],
            "url": f"{settings.SITE_URL}{reverse('notifications')}",
            "settings_url": f"{settings.SITE_URL}{reverse('notification_settings')}",
            "site_url": settings.SITE_URL,
        }
        mails.append(
            {
                "to": [user.email],
                "subject": subject,
                "body": render_to_string("emails/digest.txt", context),
                "html": render_to_string("emails/digest.html", context),
                "headers": unsubscribe_headers(user.pk, EVERY_KIND),
            }
        )
    with transaction.atomic():
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email_pending=False, emailed_at=timezone.now()
        )
        schedule_mail(mails)
    return len(mails)


def already_today(user_ids, kind, paths):
    """(user id, path) pairs of the notifications of this kind created today: daily reminders go once a day."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return set(
        Notification.objects.filter(user_id__in=user_ids, kind=kind, path__in=paths, created_at__gte=start).values_list(
            "user_id", "path"
        )
    )


# --- the calendar feed: a person's deadlines at a secret address (assessment/calendar.py makes the events) ---------


def calendar_feed_for(user):
    """The user's working feed, or None."""
    return CalendarFeed.objects.active().filter(user=user).first()


@transaction.atomic
def calendar_feed_issue(*, user):
    """A new secret address for the user's calendar; the old one, if any, stops working at once."""
    # The user's row locked first: two presses at once queue, and the second revokes the first's address.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    CalendarFeed.objects.active().filter(user=user).update(revoked_at=timezone.now())
    return CalendarFeed.objects.create(user=user, key=secrets.token_urlsafe(32))


@transaction.atomic
def calendar_feed_revoke(*, user):
    """Turn the user's calendar address off; returns whether there was one."""
    return bool(CalendarFeed.objects.active().filter(user=user).update(revoked_at=timezone.now()))

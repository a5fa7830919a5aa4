"""A person's calendar feed: their own deadlines at a secret address, fetched by calendar apps without a session."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from assessment.calendar import personal_events
from municipalities import ical
from municipalities.models import CalendarFeed


@require_safe
def calendar_feed(request, key):
    """The feed of the key's owner: 404 for a key that is unknown, revoked or of a deactivated account. What it holds
    is read from the owner's appointments at this fetch. In the site's language: calendar apps send no cookie, and
    their Accept-Language is the app's, not the person's."""
    feed = get_object_or_404(CalendarFeed.objects.active().filter(user__is_active=True).select_related("user"), key=key)
    with translation.override(settings.LANGUAGE_CODE):
        text = ical.calendar(personal_events(feed.user), name=_("MUKO: my deadlines"))
    response = ical.calendar_response(text, "muko-deadlines.ics", inline=True)
    add_never_cache_headers(response)  # a secret address: no shared cache keeps a copy
    return response

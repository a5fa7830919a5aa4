import functools

from django.conf import settings

from municipalities.access import access_for
from municipalities.notifications import unread_count


def product(request):
    user = getattr(request, "user", None)
    context = {
        "DEMO": settings.DEMO,
        "access": access_for(user),
    }
    if user is not None and user.is_authenticated:
        # A callable the template calls only where it shows the bell; counted once per response (one query).
        context["notifications_unread"] = functools.cache(lambda: unread_count(user))
    return context

from django.conf import settings

from municipalities.access import access_for


def product(request):
    return {
        "DEMO": settings.DEMO,
        "access": access_for(getattr(request, "user", None)),
    }

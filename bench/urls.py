"""The product's URLs, plus a baseline page that is no part of the product: the cheapest signed-in page, which
loads the session and the user (through the same middleware as every page) and nothing else."""

from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as product


def signed_in(request):
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    return HttpResponse(str(request.user.pk), content_type="text/plain")


urlpatterns = [path("bench/signed-in/", signed_in, name="bench-signed-in"), *product]

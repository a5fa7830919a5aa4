"""The client's address, the one thing every per-client limit keys on (login lockout, password-reset mail).

Behind `PROXY_COUNT` trusted reverse proxies, REMOTE_ADDR is the nearest proxy's address: keying on it would put
every visitor in one bucket, so that five wrong passwords from anyone lock a login for everyone. Each proxy
appends the address it received the request from to X-Forwarded-For, so the client's address is the
PROXY_COUNT-th entry from the right; everything left of it is whatever the client chose to send and is never
read (a forged entry must neither dodge a lockout nor land it on someone else's address)."""

import ipaddress

from django.conf import settings


def _address(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's IP address as text (REMOTE_ADDR when no proxy is trusted or the header is not as expected)."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        # Fewer hops than proxies: the request did not come through all of them, so no entry is trustworthy.
        return remote
    return _address(hops[-count]) or remote

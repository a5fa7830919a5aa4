"""Personal API tokens: issuing, revoking, and the `Authorization: Bearer <token>` authentication of the JSON
API. Only the sha256 of a token is stored, so a leaked database gives no working token; the token itself is
shown once, when it is issued."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from municipalities.models import ApiToken

KEYWORD = "Bearer"
MAX_ACTIVE_TOKENS = 20
# Writing last_used_at on every request would turn each read into a write; once a minute is enough to see
# whether a token is in use.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(Exception):
    pass


def token_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name):
    """Issue a token: returns (ApiToken, the token itself). The token is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_("Give the token a name, e.g. the script that will use it."))
    if len(name) > 100:
        raise TokenError(_("The name is longer than %(max)s characters.") % {"max": 100})
    if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            _("You already have %(n)s active tokens: revoke one you no longer use first.") % {"n": MAX_ACTIVE_TOKENS}
        )
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=token_hash(key), prefix=key[:8])
    return token, key


def api_token_revoke(*, token):
    """Revoke a token for good (the row stays, for the record). Revoking twice changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_for(key):
    """The active token with this key and an active user, or None."""
    if not key or len(key) > 200:
        return None
    return (
        ApiToken.objects.active().select_related("user").filter(key_hash=token_hash(key), user__is_active=True).first()
    )


def token_touch(token, now=None):
    """Record the use of a token, at most once a minute (a conditional update: concurrent requests write once)."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` with a personal token. No header: left to the next authentication
    (the session); a header with an unknown or revoked token: 401, never a silent fall-back."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Malformed Authorization header: write «Bearer», a space and the token."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise AuthenticationFailed(_("Unknown or revoked API token.")) from None
        token = token_for(key)
        if token is None:
            raise AuthenticationFailed(_("Unknown or revoked API token."))
        token_touch(token)
        return token.user, token

    def authenticate_header(self, request):
        # Makes a missing or bad token a 401 with a WWW-Authenticate challenge rather than a 403.
        return f'{KEYWORD} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Declares the token to drf-spectacular: the schema gets an HTTP bearer security scheme."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix=KEYWORD)
        scheme["description"] = "A personal token from the profile page or `manage.py issue_token`."
        return scheme

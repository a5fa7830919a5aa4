"""Password reset: the letter goes out through the task worker, and a few letters an hour is all one address
or one client can ask for.

Sending inside the request would make "this address has an account" take longer than "it has not" (one SMTP
round trip), and an unlimited form lets anyone flood a colleague's inbox or our mail relay. A request over the
limit gets exactly the page a granted one gets, so the limit tells nothing about which addresses exist."""

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.template import loader

from config.client_ip import client_ip
from municipalities.mail import schedule_mail

PER_ADDRESS = 3  # letters an hour to one e-mail address
PER_CLIENT = 10  # requests an hour from one client address
WINDOW = 60 * 60


def _take(key, limit):
    """Count one more request under `key` in its window; False when it is over `limit`."""
    cache.add(key, 0, WINDOW)
    try:
        used = cache.incr(key)
    except ValueError:  # the window ran out between add and incr
        cache.add(key, 1, WINDOW)
        used = 1
    return used <= limit


def password_reset_allowed(*, email, client):
    """Whether a reset letter may be sent now. A client over its limit does not use up the address's letters,
    so one flooding client cannot also block the owner's own request from elsewhere for long."""
    if not _take(f"password-reset:client:{client}", PER_CLIENT):
        return False
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return _take(f"password-reset:address:{digest}", PER_ADDRESS)


class PasswordResetForm(auth_forms.PasswordResetForm):
    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        # The letter is rendered here, in the reader's language, and only its text goes to the worker. Its link is
        # built from SITE_URL, as in every other letter, not from the Host of the request that asked for it.
        site = urlsplit(settings.SITE_URL)
        context = {**context, "protocol": site.scheme, "domain": site.netloc}
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        message = {"to": [to_email], "subject": subject, "body": loader.render_to_string(email_template_name, context)}
        if html_email_template_name:
            message["html"] = loader.render_to_string(html_email_template_name, context)
        schedule_mail([message])


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def form_valid(self, form):
        if not password_reset_allowed(email=form.cleaned_data["email"], client=client_ip(self.request)):
            return super(auth_views.PasswordResetView, self).form_valid(form)  # the same redirect, no letter
        return super().form_valid(form)

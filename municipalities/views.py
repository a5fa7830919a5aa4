from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from municipalities import notifications as notices
from municipalities.access import access_for
from municipalities.api_auth import TokenError, api_token_create, api_token_revoke
from municipalities.demo_accounts import demo_accounts
from municipalities.forms import InviteForm, LoginForm, NotificationSettingsForm, SetPasswordForm
from municipalities.models import MUNICIPAL_ROLES, ApiToken, Appointment, Notification, Role
from municipalities.people import (
    PeopleError,
    appointment_invite,
    appointments_listed,
    invitation_accept,
    invitation_for,
    invitation_resend,
    invitation_signs_in,
    people_rows,
    roles_for,
)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEMO:
            context["demo_accounts"] = demo_accounts()
        return context


NEW_TOKEN_KEY = "api_token_new"


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"), max_length=100, help_text=gettext_lazy("E.g. the script that will use it.")
    )


def _profile(request, token_form=None, status=200):
    # The new token is kept in the session only until this page has shown it once.
    new_token = request.session.pop(NEW_TOKEN_KEY, None)
    response = render(
        request,
        "accounts/profile.html",
        {
            "appointments": access_for(request.user).appointments,
            "tokens": ApiToken.objects.filter(user=request.user),
            "token_form": token_form or ApiTokenForm(),
            "new_token": new_token,
        },
        status=status,
    )
    if new_token:
        add_never_cache_headers(response)  # no copy of the token in any cache, not even the browser's
    return response


@login_required
@require_safe
def profile(request):
    return _profile(request)


@login_required
@require_POST
def token_new(request):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except TokenError as exc:
            form.add_error("name", str(exc))
        else:
            request.session[NEW_TOKEN_KEY] = {"pk": token.pk, "name": token.name, "key": key}
            return redirect(f"{reverse('profile')}#api-tokens")
    return _profile(request, token_form=form, status=400)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    api_token_revoke(token=token)
    messages.success(request, _("The token «%(name)s» is revoked: it no longer opens the API.") % {"name": token.name})
    return redirect(f"{reverse('profile')}#api-tokens")


def _organizers():
    return Prefetch(
        "appointments",
        queryset=Appointment.objects.active().filter(role__in=list(MUNICIPAL_ROLES)).select_related("user"),
        to_attr="organizers",
    )


@login_required
@require_safe
def region_list(request):
    access = access_for(request.user)
    access.require(access.is_national or access.is_coordinator)
    regions = access.regions().annotate(
        municipality_count=Count("municipalities", distinct=True),
        school_count=Count("municipalities__schools", filter=Q(municipalities__schools__is_active=True)),
    )
    coordinators = Appointment.objects.active().filter(role=Role.COORDINATOR, region__in=regions).select_related("user")
    by_region = {}
    for appointment in coordinators:
        by_region.setdefault(appointment.region_id, []).append(appointment)
    regions = list(regions)
    for region in regions:
        region.coordinators = by_region.get(region.pk, [])
    return render(request, "territory/region_list.html", {"regions": regions})


@login_required
@require_safe
def region_detail(request, code):
    access = access_for(request.user)
    access.require(access.is_national or access.is_coordinator)
    region = get_object_or_404(access.regions(), code=code)
    municipalities = (
        region.municipalities.annotate(school_count=Count("schools", filter=Q(schools__is_active=True)))
        .prefetch_related(_organizers())
        .in_display_order()
    )
    coordinators = region.appointments.active().filter(role=Role.COORDINATOR).select_related("user")
    return render(
        request,
        "territory/region_detail.html",
        {
            "region": region,
            "municipalities": municipalities,
            "coordinators": coordinators,
            "can_manage": access.can_manage_region(region.pk),
        },
    )


@login_required
@require_safe
def municipality_detail(request, code):
    access = access_for(request.user)
    municipality = get_object_or_404(access.municipalities().select_related("region"), code=code)
    schools = municipality.schools.filter(is_active=True).order_by("short_name")
    people = municipality.appointments.active().select_related("user").order_by("role")
    return render(
        request,
        "territory/municipality_detail.html",
        {
            "municipality": municipality,
            "schools": schools,
            "people": people,
            "region_visible": access.regions().filter(pk=municipality.region_id).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def people(request):
    access = access_for(request.user)
    access.require(bool(roles_for(access)))
    form = InviteForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            appointment_invite(access=access, by=request.user, **form.cleaned_data)
        except PeopleError as exc:
            form.add_error(None, str(exc))
        else:
            # The address as typed: the account it reached may be someone's existing one, whose name and
            # details are theirs to show once they accept.
            messages.success(
                request, _("An invitation is sent to %(email)s.") % {"email": form.cleaned_data["email"].strip()}
            )
            return redirect("people")
    return render(request, "people/list.html", {"form": form, "rows": people_rows(access.people_scope())})


@login_required
@require_POST
def people_resend(request, pk):
    access = access_for(request.user)
    access.require(bool(roles_for(access)))
    appointment = get_object_or_404(appointments_listed().filter(access.people_scope()).select_related("user"), pk=pk)
    access.require(appointment.role in roles_for(access))
    try:
        invitation_resend(appointment=appointment, by=request.user)
    except PeopleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("A new invitation is sent to %(email)s.") % {"email": appointment.user.email})
    return redirect("people")


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept_view(request, token):
    invitation = invitation_for(token)
    if invitation is None:
        return render(request, "people/invitation_invalid.html", status=404)
    user = invitation.appointment.user
    if invitation_signs_in(invitation):
        return _invitation_accept_signed_in(request, invitation)
    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_accept(invitation=invitation, password=form.cleaned_data["password1"])
        except PeopleError:
            return render(request, "people/invitation_invalid.html", status=404)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your password is set."))
        return redirect("home")
    return render(request, "people/invitation_accept.html", {"form": form, "invitation": invitation})


def _invitation_accept_signed_in(request, invitation):
    """An account that has a password accepts by signing in as itself; the link alone sets nothing."""
    user = invitation.appointment.user
    if request.user.pk != user.pk:
        login_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
        if request.method == "POST" and not request.user.is_authenticated:
            return redirect(login_url)
        context = {"invitation": invitation, "login_url": login_url, "other_user": request.user.is_authenticated}
        status = 403 if request.method == "POST" else 200
        return render(request, "people/invitation_sign_in.html", context, status=status)
    if request.method == "POST":
        try:
            invitation_accept(invitation=invitation, by=request.user)
        except PeopleError:
            return render(request, "people/invitation_invalid.html", status=404)
        messages.success(request, _("Welcome! The appointment is accepted."))
        return redirect("home")
    return render(request, "people/invitation_confirm.html", {"invitation": invitation})


NOTIFICATIONS_PAGE = 30


@login_required
@require_safe
def notifications(request):
    """The bell's list: newest first, unread ones marked; `?unread=1` shows only those."""
    items = Notification.objects.filter(user=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, NOTIFICATIONS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/notifications.html",
        {"page": page, "unread_only": unread_only, "prefs": notices.settings_for(request.user)},
    )


@login_required
@require_safe
def notification_open(request, pk):
    """Open what a notification is about, marking it read."""
    notification = get_object_or_404(Notification.objects.filter(user=request.user), pk=pk)
    notices.mark_read(request.user, [notification.pk])
    target = notification.path
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("notifications")
    return redirect(target)


@login_required
@require_POST
def notifications_read(request):
    changed = notices.mark_read(request.user)
    if changed:
        messages.success(
            request,
            ngettext("%(n)s notification marked read.", "%(n)s notifications marked read.", changed) % {"n": changed},
        )
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notification_settings(request):
    prefs = notices.settings_for(request.user)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            notices.settings_save(
                user=request.user, email_kinds=form.cleaned_data["email_kinds"], digest=form.cleaned_data["digest"]
            )
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_settings")
        status = 400
    else:
        form = NotificationSettingsForm(
            initial={
                "email_kinds": [k for k in Notification.Kind.values if prefs.emails(k)],
                "digest": prefs.digest,
            }
        )
        status = 200
    feed = notices.calendar_feed_for(request.user)
    feed_url = f"{settings.SITE_URL}{reverse('calendar_feed', args=[feed.key])}" if feed else ""
    response = render(
        request,
        "accounts/notification_settings.html",
        {
            "form": form,
            "prefs": prefs,
            "has_email": bool(request.user.email),
            "feed": feed,
            "feed_url": feed_url,
            # webcal:// opens the subscription dialog of Outlook and of Apple's calendars at once.
            "feed_webcal": "webcal://" + feed_url.split("://", 1)[1] if feed else "",
        },
        status=status,
    )
    if feed:
        add_never_cache_headers(response)  # the secret address: no copy of the page in any cache
    return response


@login_required
@require_POST
def calendar_feed_new(request):
    renewed = notices.calendar_feed_for(request.user) is not None
    notices.calendar_feed_issue(user=request.user)
    if renewed:
        messages.success(request, _("A new calendar address is made; the old one no longer works."))
    else:
        messages.success(request, _("Your calendar address is ready: add it to your calendar app."))
    return redirect(f"{reverse('notification_settings')}#calendar")


@login_required
@require_POST
def calendar_feed_revoke(request):
    if notices.calendar_feed_revoke(user=request.user):
        messages.success(request, _("The calendar address is turned off: calendars subscribed to it get nothing more."))
    return redirect(f"{reverse('notification_settings')}#calendar")


@csrf_exempt  # mailbox providers post the one-click unsubscribe (RFC 8058) without a session; the signed link is the key
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """The link of a message's List-Unsubscribe: a GET asks first (link scanners open every link of a message), a
    POST — the provider's one click, or the button of that page — turns that kind of mail off for that person."""
    target = notices.unsubscribe_target(token)
    if target is None:
        return render(request, "accounts/unsubscribe_invalid.html", status=404)
    user, kind = target
    done = request.method == "POST"
    if done:
        notices.email_turn_off(user=user, kind=kind)
    context = {"kind_label": notices.kind_label(kind), "every": kind == notices.EVERY_KIND, "done": done}
    return render(request, "accounts/unsubscribe.html", context)

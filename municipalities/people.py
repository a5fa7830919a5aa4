"""Appointing people: an e-mailed invitation with a link to set a password. Only a hash of the token is
stored; re-sending voids the old link; links expire.

An account that already exists is never handed to the appointer: they are not shown its name, the appointment
waits (inactive) until its holder accepts it by signing in with their own password, and the link sets no
password (else an invitation would be a password reset that any coordinator could send to anyone)."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from municipalities.models import MUNICIPAL_ROLES, Appointment, Invitation, Notification, Role
from municipalities.notifications import notify

INVITATION_DAYS = 7


class PeopleError(Exception):
    pass


def roles_for(access):
    """The roles this user may appoint."""
    if access.is_operator:
        return [Role.COORDINATOR, Role.EXPERT, Role.MINISTRY, Role.ORGANIZER, Role.DEPUTY_ORGANIZER, Role.OPERATOR]
    if access.is_coordinator:
        return [Role.ORGANIZER, Role.DEPUTY_ORGANIZER]
    return []


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def appointments_listed():
    """Active appointments and those waiting for an existing account to accept them (inactive, with an
    invitation that was never accepted nor voided): the people page lists both."""
    waiting = Invitation.objects.filter(appointment=OuterRef("pk"), accepted_at__isnull=True, is_void=False)
    return Appointment.objects.filter(Q(is_active=True) | Exists(waiting))


def _invitation_state(appointment, latest, now):
    """How far the appointment got: "active" (its holder signed in or accepted), "pending" (an invitation is
    out), "expired" (the last one lapsed) or "none"."""
    if appointment.is_active and (appointment.user.has_usable_password() or (latest and latest.accepted_at)):
        return "active"
    if latest and latest.expires_at < now:
        return "expired"
    return "pending" if latest else "none"


def people_rows(scope):
    """The people page's rows for the appointments in `scope` (a Q: Access.people_scope()), each with its latest
    invitation and state, in two queries."""
    appointments = (
        appointments_listed()
        .filter(scope)
        .select_related("user", "region", "municipality")
        .prefetch_related(Prefetch("invitations", queryset=Invitation.objects.order_by("-created_at")))
        .order_by("role", "region__code", "municipality__name")
    )
    now = timezone.now()
    rows = []
    for appointment in appointments:
        latest = next(iter(appointment.invitations.all()), None)
        rows.append(
            {"appointment": appointment, "invitation": latest, "state": _invitation_state(appointment, latest, now)}
        )
    return rows


def _signs_in(appointment):
    """The invitee accepts by signing in, not by setting a password: the account already had one."""
    return appointment.user.has_usable_password()


def _issue(appointment, by):
    token = secrets.token_urlsafe(32)
    Invitation.objects.filter(appointment=appointment, accepted_at__isnull=True).update(is_void=True)
    sent = Invitation.objects.filter(appointment=appointment).count()
    Invitation.objects.create(
        appointment=appointment,
        token_hash=_hash(token),
        created_by=by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        sent_count=sent + 1,
    )
    user = appointment.user
    where = appointment.municipality or appointment.region
    about = {
        "role": appointment.get_role_display(),
        "where": f" ({where})" if where else "",
    }
    appointed = (
        _(
            "You are appointed %(role)s%(where)s on the platform for the assessment of municipal mechanisms of "
            "education quality management."
        )
        % about
    )
    if _signs_in(appointment):
        how = _(
            "To accept the appointment, open the link below and sign in with your own login and password (the "
            "link is valid for %(days)s days). Your login: %(login)s"
        )
    else:
        how = _("Set your password and log in by the link below (it is valid for %(days)s days). Your login: %(login)s")
    notify(
        [user],
        Notification.Kind.APPOINTMENT,
        _("You are appointed: %(role)s") % about,
        appointed,
        reverse("home"),
        email_body=appointed + "\n\n" + how % {"days": INVITATION_DAYS, "login": user.username},
        email_path=reverse("invitation_accept", args=[token]),
    )
    return token


@transaction.atomic
def appointment_invite(*, access, by, email, first_name, last_name, role, region=None, municipality=None, position=""):
    if role not in roles_for(access):
        raise PeopleError(_("Your role does not allow appointing a %(role)s.") % {"role": Role(role).label})
    if role in MUNICIPAL_ROLES:
        if municipality is None:
            raise PeopleError(_("Choose the municipality."))
        if not access.can_manage_region(municipality.region_id):
            raise PeopleError(_("You may appoint organizers only in your own region."))
        region = municipality.region
    elif role == Role.COORDINATOR and region is None:
        raise PeopleError(_("Choose the region."))
    if role not in MUNICIPAL_ROLES:
        municipality = None
    if role in (Role.OPERATOR, Role.MINISTRY):
        region = None
    email = email.strip().lower()
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first() or User.objects.filter(username__iexact=email).first()
    existing = user is not None
    if not existing:
        user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip())
        user.set_unusable_password()
        user.save()
    if appointments_listed().filter(user=user, role=role, region=region, municipality=municipality).exists():
        raise PeopleError(_("%(email)s already holds this appointment.") % {"email": email})
    # Someone else's account gets the role only when its holder accepts: until then nobody sees it in the role.
    appointment = Appointment.objects.create(
        user=user,
        role=role,
        region=region,
        municipality=municipality,
        position=position.strip(),
        created_by=by,
        is_active=not existing,
    )
    _issue(appointment, by)
    return appointment


@transaction.atomic
def invitation_resend(*, appointment, by):
    if appointment.invitations.filter(accepted_at__isnull=False).exists() and appointment.user.has_usable_password():
        raise PeopleError(_("The invitation has already been accepted."))
    return _issue(appointment, by)


def invitation_for(token):
    """The live invitation for a token, or None (unknown, used, void or expired look the same)."""
    invitation = (
        Invitation.objects.select_related("appointment__user", "appointment__region", "appointment__municipality")
        .filter(token_hash=_hash(token or ""), is_void=False, accepted_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at < timezone.now():
        return None
    return invitation


def invitation_signs_in(invitation):
    """Whether this invitation is accepted by signing in (an account with its own password) rather than by
    setting a password."""
    return _signs_in(invitation.appointment)


@transaction.atomic
def invitation_accept(*, invitation, password=None, by=None):
    """Take up the appointment. An account with a password accepts signed in as itself (`by`) and its password
    is never touched; a new account sets its first `password`."""
    user = invitation.appointment.user
    signs_in = invitation_signs_in(invitation)
    if signs_in and (by is None or by.pk != user.pk):
        raise PeopleError(_("Sign in with the account this invitation was sent to."))
    if not signs_in and not password:
        raise PeopleError(_("Choose a password."))
    moved = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, is_void=False).update(
        accepted_at=timezone.now()
    )
    if not moved:
        raise PeopleError(_("This invitation has already been used."))
    Appointment.objects.filter(pk=invitation.appointment_id).update(is_active=True)
    if not signs_in:
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    return user

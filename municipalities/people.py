"""Appointing people: an e-mailed invitation with a link to set a password. Only a hash of the token is
stored; re-sending voids the old link; links expire."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from municipalities.models import MUNICIPAL_ROLES, Appointment, Invitation, Role

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
    from municipalities.models import Notification
    from municipalities.notifications import notify

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
    notify(
        [user],
        Notification.Kind.APPOINTMENT,
        _("You are appointed: %(role)s") % about,
        appointed,
        reverse("home"),
        email_body=appointed
        + "\n\n"
        + _("Set your password and log in by the link below (it is valid for %(days)s days). Your login: %(login)s")
        % {"days": INVITATION_DAYS, "login": user.username},
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
    if user is None:
        user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip())
        user.set_unusable_password()
        user.save()
    if Appointment.objects.active().filter(user=user, role=role, region=region, municipality=municipality).exists():
        raise PeopleError(_("%(email)s already holds this appointment.") % {"email": email})
    appointment = Appointment.objects.create(
        user=user, role=role, region=region, municipality=municipality, position=position.strip(), created_by=by
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


@transaction.atomic
def invitation_accept(*, invitation, password):
    moved = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, is_void=False).update(
        accepted_at=timezone.now()
    )
    if not moved:
        raise PeopleError(_("This invitation has already been used."))
    user = invitation.appointment.user
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user

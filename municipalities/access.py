"""What a user may see and do, answered in one place.

Every view scopes its querysets through `access_for(request.user)`; an object outside the scope is
looked up in the scoped queryset and so is a 404, the same as an object that does not exist."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from municipalities.models import (
    MUNICIPAL_ROLES,
    Appointment,
    Municipality,
    Region,
    Role,
    School,
)


@dataclass(frozen=True)
class Access:
    user_id: int | None
    roles: frozenset = frozenset()
    coordinated_region_ids: frozenset = frozenset()
    organized_municipality_ids: frozenset = frozenset()
    expert_home_region_ids: frozenset = frozenset()
    is_superuser: bool = False
    appointments: tuple = field(default=(), compare=False)

    # --- who ---------------------------------------------------------------------------------------
    @property
    def is_operator(self):
        return self.is_superuser or Role.OPERATOR in self.roles

    @property
    def is_ministry(self):
        return Role.MINISTRY in self.roles

    @property
    def is_national(self):
        """Sees every region (read-only for the ministry)."""
        return self.is_operator or self.is_ministry

    @property
    def is_coordinator(self):
        return Role.COORDINATOR in self.roles

    @property
    def is_organizer(self):
        return bool(self.roles & MUNICIPAL_ROLES)

    @property
    def is_expert(self):
        return Role.EXPERT in self.roles

    # --- what may be seen ---------------------------------------------------------------------------
    def regions(self):
        """Regions seen in full, with all their municipalities."""
        if self.is_national:
            return Region.objects.all()
        return Region.objects.filter(pk__in=self.coordinated_region_ids)

    def municipalities(self):
        if self.is_national:
            return Municipality.objects.all()
        return Municipality.objects.filter(
            Q(region_id__in=self.coordinated_region_ids) | Q(pk__in=self.organized_municipality_ids)
        )

    def schools(self):
        if self.is_national:
            return School.objects.all()
        return School.objects.filter(municipality__in=self.municipalities())

    # --- what may be done ---------------------------------------------------------------------------
    def can_manage_region(self, region_id):
        """Appoint organizers, upload forms, pre-score: the operator anywhere, a coordinator at home."""
        return self.is_operator or region_id in self.coordinated_region_ids

    def can_fill_forms(self, municipality_id):
        return municipality_id in self.organized_municipality_ids

    def can_edit_methodology(self):
        return self.is_operator

    def may_see_results(self, campaign):
        """Ranks and results compare every participant: before publication the operator and the ministry only,
        after it every signed-in user."""
        return self.is_national or (self.user_id is not None and campaign.results_published)

    def may_hold_survey_links(self, municipality):
        """Working survey links of a municipality's schools: the region hands them to the schools' own
        addresses; nobody appointed to the municipality being assessed may hold one (the answers feed its
        scores), not even a coordinator who is also its organizer. The ministry reads rates only."""
        return self.can_manage_region(municipality.region_id) and not self.can_fill_forms(municipality.pk)

    def survey_link_municipalities(self, municipalities):
        """The part of `municipalities` whose links this user may hold (see may_hold_survey_links)."""
        if not (self.is_operator or self.coordinated_region_ids):
            return municipalities.none()
        if not self.is_operator:
            municipalities = municipalities.filter(region_id__in=self.coordinated_region_ids)
        return municipalities.exclude(pk__in=self.organized_municipality_ids)

    def require(self, allowed):
        """Raise 403 for a role that may never use the page (as opposed to an object outside scope)."""
        if not allowed:
            raise PermissionDenied


ANONYMOUS = Access(user_id=None)


def access_for(user):
    """The user's Access, computed once per request (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_access", None)
    if cached is not None:
        return cached
    appointments = tuple(
        Appointment.objects.active().filter(user=user).select_related("region", "municipality__region")
    )
    access = Access(
        user_id=user.pk,
        roles=frozenset(Role(a.role) for a in appointments),
        coordinated_region_ids=frozenset(a.region_id for a in appointments if a.role == Role.COORDINATOR),
        organized_municipality_ids=frozenset(a.municipality_id for a in appointments if a.role in MUNICIPAL_ROLES),
        expert_home_region_ids=frozenset(a.region_id for a in appointments if a.role == Role.EXPERT and a.region_id),
        is_superuser=user.is_superuser,
        appointments=appointments,
    )
    user._access = access
    return access

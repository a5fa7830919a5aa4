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

    def follows_region(self, region_id):
        """The region's progress pages: the national roles and the region's coordinator."""
        return self.is_national or region_id in self.coordinated_region_ids

    def sees_all_points(self, region_id):
        """Every score of a submission of the region before it is final (pre-scores, each expert's): the
        national roles and the region's coordinator."""
        return self.follows_region(region_id)

    # The assessment stands above this floor: the methods below take its objects duck-typed, a submission with
    # `municipality.region_id`, `municipality_id` and `is_assigned_to(user_id, open_only=...)`.
    def may_score(self, submission, round):
        """Set points in a round: the pre-score ("prescore") where the user manages the region, an expert's
        ("expert") on a submission assigned to them and not yet completed."""
        if round == "prescore":
            return self.can_manage_region(submission.municipality.region_id)
        if round == "expert":
            return submission.is_assigned_to(self.user_id, open_only=True)
        return False

    def may_move(self, submission, roles, *, any_expert=False):
        """Whether one of `roles` ("operator", "coordinator", "organizer", "expert": a transition's) is this
        user's on the submission: the coordinator of its region, an organizer of its municipality, an expert
        assigned to it, or any expert with `any_expert` (who decides an appeal is checked by the appeal)."""
        return (
            ("operator" in roles and self.is_operator)
            or ("coordinator" in roles and submission.municipality.region_id in self.coordinated_region_ids)
            or ("organizer" in roles and self.can_fill_forms(submission.municipality_id))
            or ("expert" in roles and self.is_expert and (any_expert or submission.is_assigned_to(self.user_id)))
        )

    def points_scope(self, submission, has_result):
        """What of a submission's points the user sees: "all" (once it has a result, everyone who sees it;
        before, see sees_all_points), "expert" (an assigned expert before the result: their own scores, the
        reconciled ones and the pre-score unless the review is blind), or None (the municipality itself and
        anyone else before the result)."""
        if has_result or self.sees_all_points(submission.municipality.region_id):
            return "all"
        if self.is_expert and submission.is_assigned_to(self.user_id):
            return "expert"
        return None

    def people_scope(self):
        """The appointments listed on the people page, as a filter: a coordinator's regions; for the operator
        also every municipality's and the national ones (neither region nor municipality)."""
        if not self.is_operator:
            return Q(region__in=self.regions())
        return (
            Q(region__in=self.regions())
            | Q(municipality__in=self.municipalities())
            | Q(region__isnull=True, municipality__isnull=True)
        )

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


def _listed_order(appointment):
    """Appointment.Meta.ordering (role, region code, municipality name; an empty place last, as PostgreSQL puts
    NULL last), the names compared as a reader would (case aside), whatever the database's collation."""
    region, municipality = appointment.region, appointment.municipality
    return (
        appointment.role,
        region is None,
        region.code if region else "",
        municipality is None,
        municipality.name.casefold() if municipality else "",
    )


def access_for(user):
    """The user's Access, computed once per request (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_access", None)
    if cached is not None:
        return cached
    # Sorted here as the model's default order sorts them: in SQL that order costs two more joins' worth of query
    # building on every request of every signed-in user.
    appointments = tuple(
        sorted(
            Appointment.objects.active().filter(user=user).select_related("region", "municipality__region").order_by(),
            key=_listed_order,
        )
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

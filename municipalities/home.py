"""The ground floor of the home page: the Step every app's part of it returns, and the territory's part (regions,
municipalities, schools and people each role answers for). reports.home puts the parts together."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from municipalities.models import MUNICIPAL_ROLES, Appointment, Municipality, Region, Role


@dataclass(frozen=True)
class Step:
    title: str
    detail: str = ""
    url: str = ""
    tone: str = "primary"  # Bootstrap contextual colour: danger, warning, primary, success
    icon: str = "arrow-right-circle"


def _operator_counts():
    return {
        "regions": Region.objects.count(),
        "municipalities": Municipality.objects.count(),
        "schools": Municipality.objects.aggregate(n=Count("schools", filter=Q(schools__is_active=True)))["n"],
        "people": Appointment.objects.active().values("user").distinct().count(),
    }


def _coordinated(access):
    regions = (
        Region.objects.filter(pk__in=access.coordinated_region_ids)
        .annotate(
            municipality_count=Count("municipalities", distinct=True),
            school_count=Count("municipalities__schools", filter=Q(municipalities__schools__is_active=True)),
        )
        .order_by("code")
    )
    organizers = (
        Appointment.objects.active().filter(role__in=list(MUNICIPAL_ROLES)).select_related("user").order_by("-role")
    )
    municipalities = (
        Municipality.objects.filter(region_id__in=access.coordinated_region_ids)
        .annotate(school_count=Count("schools", filter=Q(schools__is_active=True)))
        .prefetch_related(Prefetch("appointments", queryset=organizers, to_attr="organizers"))
        .in_display_order()
    )
    return {"coordinated_regions": regions, "region_municipalities": municipalities}


def _organized(access):
    municipalities = Municipality.objects.filter(pk__in=access.organized_municipality_ids).select_related("region")
    coordinators = Appointment.objects.active().filter(
        role=Role.COORDINATOR, region__in=[m.region_id for m in municipalities]
    )
    return {"my_municipalities": municipalities, "my_coordinators": coordinators.select_related("user", "region")}


def territory_home(access):
    """The territory each role of the user answers for, as the home page's context."""
    context = {}
    if access.is_operator:
        context["counts"] = _operator_counts()
    if access.is_coordinator:
        context.update(_coordinated(access))
    if access.is_organizer:
        context.update(_organized(access))
    if access.is_expert:
        context["expert_regions"] = Region.objects.filter(pk__in=access.expert_home_region_ids)
    if access.is_national:
        context["national_regions"] = Region.objects.annotate(
            municipality_count=Count("municipalities", distinct=True),
            participant_count=Count("municipalities__participations", distinct=True),
            school_count=Count("municipalities__schools", distinct=True),
        ).order_by("code")
    return context

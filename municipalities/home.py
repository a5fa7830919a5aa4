"""The ground floor of the home page: the Step every app's part of it returns, and the territory's part (regions,
municipalities, schools and people each role answers for). reports.home puts the parts together."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from municipalities.models import MUNICIPAL_ROLES, Appointment, Municipality, Region, Role, School


@dataclass(frozen=True)
class Step:
    title: str
    detail: str = ""
    url: str = ""
    tone: str = "primary"  # Bootstrap contextual colour: danger, warning, primary, success
    icon: str = "arrow-right-circle"


@dataclass(frozen=True)
class Due:
    """A deadline as the home page shows it: the day and the days left (negative: overdue), said in words (in the
    Russian plural forms) and coloured by how close it is."""

    day: date | None
    days: int | None = None

    @classmethod
    def of(cls, day, today):
        return cls(day, None if day is None else (day - today).days)

    @property
    def label(self):
        if self.days is None:
            return ""
        if self.days < 0:
            return ngettext("%(n)s day overdue", "%(n)s days overdue", -self.days) % {"n": -self.days}
        if self.days == 0:
            return _("due today")
        return ngettext("%(n)s day left", "%(n)s days left", self.days) % {"n": self.days}

    @property
    def tone(self):
        """Bootstrap's badge colour: red from three days left, yellow from ten."""
        if self.days is None:
            return "secondary"
        return "danger" if self.days <= 3 else "warning" if self.days <= 10 else "success"


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


def _per_region(rows, path):
    """{region id: how many of `rows`}, `path` leading from a row to its region."""
    return dict(rows.order_by().values_list(path).annotate(n=Count("pk")))


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
        # Each count grouped on its own: joined together, the municipalities, their participations and their
        # schools multiplied into tens of thousands of rows to count distinct (14 ms of the page, national data).
        participations = Municipality._meta.get_field("participations").related_model.objects
        counts = {
            "municipality_count": _per_region(Municipality.objects, "region"),
            "participant_count": _per_region(participations, "municipality__region"),
            "school_count": _per_region(School.objects, "municipality__region"),
        }
        regions = list(Region.objects.order_by("code"))
        for region in regions:
            for name, per_region in counts.items():
                setattr(region, name, per_region.get(region.pk, 0))
        context["national_regions"] = regions
    return context

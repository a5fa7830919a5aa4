from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from municipalities.access import access_for
from municipalities.forms import LoginForm
from municipalities.models import MUNICIPAL_ROLES, Appointment, Role


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEMO:
            from municipalities.demo import demo_accounts

            context["demo_accounts"] = demo_accounts()
        return context


@login_required
@require_safe
def profile(request):
    appointments = access_for(request.user).appointments
    return render(request, "accounts/profile.html", {"appointments": appointments})


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

"""The coordinator's view of a region in a campaign: progress, reminders, the Excel round trip."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import collection, excel_export, excel_import
from assessment.campaign_views import campaign_for
from assessment.forms import ImportForm
from assessment.models import Attachment, EvidenceLink
from municipalities.models import MUNICIPAL_ROLES, Appointment


def region_for(request, slug, code):
    access, campaign = campaign_for(request, slug)
    access.require(access.is_national or access.is_coordinator)
    region = get_object_or_404(access.regions(), code=code)
    return access, campaign, region


def region_rows(campaign, region):
    """One row per municipality with status, progress, evidence and contacts, in a fixed number of queries."""
    submissions = list(
        campaign.submissions.filter(municipality__region=region)
        .select_related("municipality")
        .annotate(
            link_count=Count("answers__links", distinct=True),
            broken_count=Count(
                "answers__links",
                filter=Q(
                    answers__links__state__in=[
                        EvidenceLink.State.DEAD,
                        EvidenceLink.State.FAILING,
                        EvidenceLink.State.REFUSED,
                    ]
                ),
                distinct=True,
            ),
            last_edit=Max("answers__updated_at"),
        )
        .order_by("municipality__name")
    )
    files = dict(
        Attachment.objects.filter(answer__submission__in=submissions, is_removed=False)
        .values_list("answer__submission_id")
        .annotate(n=Count("pk"))
    )
    state = collection.progress([s.pk for s in submissions], campaign.methodology_id)
    people = {}
    for appointment in (
        Appointment.objects.active()
        .filter(municipality__region=region, role__in=list(MUNICIPAL_ROLES))
        .select_related("user")
        .order_by("-role")
    ):
        people.setdefault(appointment.municipality_id, []).append(appointment)
    today = timezone.localdate()
    for s in submissions:
        s.progress = state[s.pk]
        s.file_count = files.get(s.pk, 0)
        s.evidence_count = s.link_count + s.file_count
        s.people = people.get(s.municipality_id, [])
        s.activity = max(filter(None, [s.last_activity_at, s.last_edit]), default=None)
        s.deadline_value = s.deadline()
        s.days = (s.deadline_value - today).days if s.deadline_value else None
        s.lagging = s.is_editable and s.progress["done"] < s.progress["total"]
    submissions.sort(key=lambda s: (s.municipality.kind != "city_district", s.municipality.name))
    return submissions


@login_required
@require_safe
def region_progress(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    rows = region_rows(campaign, region)
    summary = {
        "total": len(rows),
        "submitted": sum(1 for r in rows if not r.is_editable),
        "lagging": sum(1 for r in rows if r.lagging),
        "broken": sum(r.broken_count for r in rows),
    }
    return render(
        request,
        "regions/progress.html",
        {
            "campaign": campaign,
            "region": region,
            "rows": rows,
            "summary": summary,
            "can_manage": access.can_manage_region(region.pk),
        },
    )


@login_required
@require_POST
def region_remind(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    access.require(access.can_manage_region(region.pk))
    sent = collection.reminders_send(campaign=campaign, region_ids=[region.pk])
    if sent:
        messages.success(
            request,
            ngettext("A reminder is sent to %(n)s municipality.", "Reminders are sent to %(n)s municipalities.", sent)
            % {"n": sent},
        )
    else:
        messages.info(request, _("Nobody to remind: every lagging municipality has already been reminded today."))
    return redirect("region_progress", slug, code)


@login_required
@require_safe
def region_export(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    municipalities = [s.municipality for s in region_rows(campaign, region)]
    data = excel_export.export_workbook(campaign=campaign, municipalities=municipalities)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = f"muko-{campaign.slug}-{region.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def region_import(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    access.require(access.can_manage_region(region.pk))
    form = ImportForm(request.POST or None, request.FILES or None)
    errors, result = [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        try:
            result = excel_import.import_workbook(data, campaign=campaign, user=request.user, access=access)
        except excel_import.ImportRejected as exc:
            errors = exc.errors
        else:
            if result.changed:
                messages.success(
                    request,
                    ngettext(
                        "Imported: %(n)s municipality updated.",
                        "Imported: %(n)s municipalities updated.",
                        len(result.changed),
                    )
                    % {"n": len(result.changed)},
                )
            else:
                messages.info(request, _("The file holds exactly what the product already has: nothing changed."))
            return redirect("region_progress", slug, code)
    return render(
        request,
        "regions/import.html",
        {"campaign": campaign, "region": region, "form": form, "errors": errors},
        status=400 if errors else 200,
    )

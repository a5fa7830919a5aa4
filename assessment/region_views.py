"""The coordinator's view of a region in a campaign: progress, reminders, the Excel round trip."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment import collection, excel_export, excel_import
from assessment.campaign_views import campaign_for
from assessment.form_selectors import region_rows
from assessment.forms import ImportForm
from assessment.sites import LinkTally


def region_for(request, slug, code):
    """(access, campaign, region) of a regional page, here and in surveys/staff_views.py: the national roles and
    coordinators only (403 for other roles), a region outside the user's scope is a 404."""
    access, campaign = campaign_for(request, slug)
    access.require(access.is_national or access.is_coordinator)
    region = get_object_or_404(access.regions(), code=code)
    return access, campaign, region


@login_required
@require_safe
def region_progress(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    rows = region_rows(campaign, region)
    links = LinkTally()
    for r in rows:
        links += r.links
    summary = {
        "total": len(rows),
        "submitted": sum(1 for r in rows if not r.is_editable),
        "lagging": sum(1 for r in rows if r.lagging),
        "links": links,
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
    response["Content-Disposition"] = content_disposition_header(True, filename)  # never MIME-encoded
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

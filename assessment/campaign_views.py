"""Campaigns and their materials."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from assessment.basis import basis_for, can_edit_document
from assessment.calendar import stage_events
from assessment.forms import CampaignDocumentForm, CampaignForm, MaterialForm
from assessment.holidays import campaign_summer_stages, summer_stages
from assessment.models import Campaign, CampaignStage, Material, Submission
from assessment.scope import campaigns_for, can_edit_material, materials_for, submissions_for
from assessment.services import CampaignError, campaign_document_add, campaign_document_remove, campaign_save
from municipalities import ical
from municipalities.access import access_for
from municipalities.models import LISTED_MUNICIPALITIES, Region


def campaign_for(request, slug):
    access = access_for(request.user)
    campaigns = (
        campaigns_for(access)
        .select_related("methodology")
        .prefetch_related(Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on")))
    )
    return access, get_object_or_404(campaigns, slug=slug)


@login_required
@require_safe
def campaign_list(request):
    access = access_for(request.user)
    campaigns = (
        campaigns_for(access)
        .select_related("methodology")
        .prefetch_related(Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on")))
        .annotate(participant_count=Count("participations"))
    )
    today = timezone.localdate()
    campaigns = list(campaigns)
    for campaign in campaigns:
        campaign.running = [p for p in campaign.stages.all() if p.starts_on <= today <= p.ends_on]
    return render(request, "campaigns/list.html", {"campaigns": campaigns, "can_create": access.is_operator})


def summer_message(titles):
    """The warning a saved campaign gets when `titles` (its collection or survey stages) run into July–August."""
    return _(
        "%(stages)s: in July–August, when many specialists of the education authorities are on leave (in 2020 this "
        "is what went wrong). Make sure every municipality has a deputy organizer (the people page), and grant an "
        "extension of the deadline to a municipality that needs one (its form page, «Extend the deadline»)."
    ) % {"stages": "; ".join(str(t) for t in titles)}


def _campaign_form(request, campaign):
    access = access_for(request.user)
    access.require(access.is_operator)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = campaign_save(
                campaign=form.save(commit=False),
                stages=form.stages(),
                municipalities=form.cleaned_data["municipalities"],
                by=request.user,
                titles=form.titles(),
            )
        except CampaignError as exc:
            form.add_error("municipalities", str(exc))
        else:
            messages.success(request, _("The campaign «%(title)s» is saved.") % {"title": saved.title})
            summer = campaign_summer_stages(saved, until_over_on=timezone.localdate())
            if summer:
                messages.warning(request, summer_message(p.display_title for p in summer))
            return redirect("campaign_detail", saved.slug)
    # The 2020 approbation collected data in July and August, with the specialists on leave.
    summer = summer_stages(form.periods()) if form.is_bound else []
    regions = Region.objects.order_by("code")
    return render(
        request,
        "campaigns/form.html",
        {"form": form, "campaign": campaign, "regions": regions, "summer": [s.label for s in summer]},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_create(request):
    return _campaign_form(request, Campaign())


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_edit(request, slug):
    _access, campaign = campaign_for(request, slug)
    return _campaign_form(request, campaign)


@login_required
@require_safe
def campaign_detail(request, slug):
    access, campaign = campaign_for(request, slug)
    today = timezone.localdate()
    submissions = submissions_for(access).filter(campaign=campaign)
    summary = _region_summary(submissions)
    regions = {}
    if sum(row["total"] for row in summary) <= LISTED_MUNICIPALITIES:
        summary = None
        listed = submissions.select_related("municipality__region").order_by(
            "municipality__region__code", "municipality__name"
        )
        for submission in listed:
            regions.setdefault(submission.municipality.region, []).append(submission)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "regions": regions,
            "region_summary": summary,
            "timeline": [
                {"period": p, "current": p.starts_on <= today <= p.ends_on, "past": p.ends_on < today}
                for p in campaign.stages.all()
            ],
            "can_edit": access.is_operator,
            "results_visible": access.may_see_results(campaign) and campaign.results.exists(),
            "material_count": materials_for(access, campaign).count(),
            "basis": list(basis_for(access, campaign)),
            "can_add_basis": access.is_operator or access.is_coordinator,
            "summer": campaign_summer_stages(campaign, until_over_on=today),
            "progress_regions": [
                r for r in ([row["region"] for row in summary] if summary else regions) if access.follows_region(r.pk)
            ],
        },
    )


def _region_summary(submissions):
    """Per region of `submissions`, by code: {"region", "total", "statuses": [(status, label, n)]}, the statuses
    in the order of the workflow. One query for the counts, one for the regions."""
    counts = {}
    for region_id, status, n in (
        submissions.order_by().values_list("municipality__region", "status").annotate(n=Count("pk"))
    ):
        counts.setdefault(region_id, {})[status] = n
    return [
        {
            "region": region,
            "total": sum(counts[region.pk].values()),
            "statuses": [
                (status, label, counts[region.pk][status])
                for status, label in Submission.Status.choices
                if status in counts[region.pk]
            ],
        }
        for region in Region.objects.filter(pk__in=counts).order_by("code")
    ]


@login_required
@require_safe
def campaign_calendar(request, slug):
    """The campaign's stages as an .ics file (RFC 5545) for whoever sees the campaign, in the reader's language."""
    _access, campaign = campaign_for(request, slug)
    text = ical.calendar(stage_events(campaign), name=campaign.title)
    return ical.calendar_response(text, f"muko-{campaign.slug}.ics")


def _basis_form(request, access, campaign):
    # A coordinator records their own region's documents; the operator any region's, or a federal one.
    regions = None if access.is_operator else access.regions().order_by("code")
    return CampaignDocumentForm(request.POST or None, request.FILES or None, campaign=campaign, regions=regions)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_basis(request, slug):
    """The letters and orders the campaign runs under; the operator and the coordinators add to them."""
    access, campaign = campaign_for(request, slug)
    can_add = access.is_operator or access.is_coordinator
    form = _basis_form(request, access, campaign) if can_add else None
    if request.method == "POST":
        access.require(can_add)
        if form.is_valid():
            document = campaign_document_add(campaign=campaign, document=form.save(commit=False))
            messages.success(request, _("The document «%(title)s» is added.") % {"title": document.title})
            return redirect("campaign_basis", campaign.slug)
    documents = list(basis_for(access, campaign))
    for document in documents:
        document.editable = can_edit_document(access, document)
    return render(request, "campaigns/basis.html", {"campaign": campaign, "documents": documents, "form": form})


@login_required
@require_POST
def campaign_basis_remove(request, slug, pk):
    access, campaign = campaign_for(request, slug)
    document = get_object_or_404(basis_for(access, campaign), pk=pk)
    access.require(can_edit_document(access, document))
    campaign_document_remove(document=document)
    messages.success(request, _("The document «%(title)s» is removed.") % {"title": document.title})
    return redirect("campaign_basis", campaign.slug)


@login_required
@require_safe
def campaign_basis_file(request, slug, pk):
    access, campaign = campaign_for(request, slug)
    document = get_object_or_404(basis_for(access, campaign), pk=pk)
    if not document.file:
        raise Http404
    name = document.file.name.rsplit("/", 1)[-1]
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=name)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_materials(request, slug):
    access, campaign = campaign_for(request, slug)
    can_add = access.is_operator or access.is_coordinator
    form = MaterialForm(request.POST or None, request.FILES or None) if can_add else None
    if request.method == "POST":
        access.require(can_add)
        if form.is_valid():
            material = form.save(commit=False)
            material.campaign = campaign
            material.created_by = request.user
            if not access.is_operator:
                # A coordinator's material is for their own region.
                material.region_id = sorted(access.coordinated_region_ids)[0]
            material.save()
            messages.success(request, _("The material is added."))
            return redirect("campaign_materials", campaign.slug)
    materials = list(materials_for(access, campaign).select_related("region"))
    for material in materials:
        material.editable = can_edit_material(access, material)
    groups = {kind: [m for m in materials if m.kind == kind] for kind in Material.Kind}
    return render(
        request,
        "campaigns/materials.html",
        {"campaign": campaign, "groups": groups, "form": form, "kinds": Material.Kind, "empty": not materials},
    )


@login_required
@require_POST
def material_remove(request, slug, pk):
    access, campaign = campaign_for(request, slug)
    material = get_object_or_404(materials_for(access, campaign), pk=pk)
    access.require(can_edit_material(access, material))
    Material.objects.filter(pk=material.pk).update(is_removed=True)
    messages.success(request, _("The material «%(title)s» is removed.") % {"title": material.title})
    return redirect("campaign_materials", campaign.slug)


@login_required
@require_safe
def material_file(request, slug, pk):
    access, campaign = campaign_for(request, slug)
    material = get_object_or_404(materials_for(access, campaign), pk=pk)
    if not material.file:
        raise Http404
    name = material.file.name.rsplit("/", 1)[-1]
    return FileResponse(material.file.open("rb"), as_attachment=True, filename=name)

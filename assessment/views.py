from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Sum
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from assessment.models import Campaign, Criterion, Methodology


@login_required
@require_safe
def methodology(request, code=None):
    """The whole methodology, one click from everywhere: guidance is what the 2020 pilot lacked."""
    methodologies = Methodology.objects.select_related("previous")
    if code:
        current = get_object_or_404(methodologies, code=code)
    else:
        # The version of the newest campaign; before any campaign, the newest version.
        newest = Campaign.objects.select_related("methodology").order_by("-year", "-created_at").first()
        current = newest.methodology if newest else methodologies.order_by("-version", "-created_at").first()
        if current is None:
            return render(request, "assessment/methodology.html", {"methodology": None})
    blocks = _blocks(current)
    return render(
        request,
        "assessment/methodology.html",
        {
            "methodology": current,
            "versions": methodologies.order_by("version", "code"),
            "blocks": blocks,
            "components": current.components.all(),
            "bands": current.level_bands.all(),
            "total": sum(b["total"] for b in blocks),
            "campaigns": current.campaigns.all(),
        },
    )


def _blocks(methodology):
    """The methodology's blocks, each with its mechanisms (their criteria prefetched) and its total."""
    mechanisms = (
        methodology.mechanisms.annotate(total=Sum("criteria__max_points"))
        .prefetch_related(
            Prefetch(
                "criteria",
                queryset=Criterion.objects.select_related("component").order_by("component__order"),
            )
        )
        .order_by("order")
    )
    blocks = {}
    for mechanism in mechanisms:
        blocks.setdefault(mechanism.block, {"label": mechanism.get_block_display(), "mechanisms": []})
        blocks[mechanism.block]["mechanisms"].append(mechanism)
    for block in blocks.values():
        block["total"] = sum(m.total or 0 for m in block["mechanisms"])
    return list(blocks.values())

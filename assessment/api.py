"""The assessment's part of the JSON API: the campaigns, and the path parameters that name a campaign and a
municipality in every endpoint above it."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment.basis import documents_visible
from assessment.models import CampaignStage, Stage
from assessment.scope import campaigns_for
from municipalities.access import access_for
from municipalities.api import COMMON_HEADERS, ApiView, read_only_responses, slug_parameter

CAMPAIGN_SLUG = slug_parameter("slug", "The campaign's short name, e.g. 2020-approbation.")
MUNICIPALITY_CODE = slug_parameter("code", "The municipality's code, e.g. elista.")


class BasisDocumentSerializer(serializers.Serializer):
    title = serializers.CharField()
    number = serializers.CharField(help_text="The document's number, e.g. 13-293; empty when it has none.")
    date = serializers.DateField(allow_null=True, help_text="The document's date (ISO), or null.")


class CampaignStageSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Stage.choices)
    title = serializers.CharField(help_text="The stage as the campaign's documents name it, else its usual name.")
    starts = serializers.DateField()
    ends = serializers.DateField()


class CampaignSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    year = serializers.IntegerField()
    max_total = serializers.IntegerField(help_text="The methodology's maximum total (555 in 2020).")
    stage = serializers.ChoiceField(
        choices=Stage.choices, allow_null=True, help_text="The stage running today; null between stages."
    )
    basis = BasisDocumentSerializer(
        many=True,
        help_text="The letters and orders the campaign runs under (a region's own order only for its people and "
        "the national roles).",
    )
    stages = CampaignStageSerializer(many=True, help_text="The campaign's stages with their dates, by start.")
    previous = serializers.CharField(
        allow_null=True, help_text="The slug of the campaign this one follows (its results are compared), or null."
    )


class CampaignListSerializer(serializers.Serializer):
    results = CampaignSerializer(many=True)


def campaign_rows(access):
    campaigns = (
        campaigns_for(access)
        .select_related("methodology", "previous")
        .prefetch_related(
            Prefetch("stages", queryset=CampaignStage.objects.order_by("starts_on", "pk")),
            Prefetch("basis", queryset=documents_visible(access).order_by("order", "date", "pk")),
        )
        .order_by("-year", "title")
    )
    rows = []
    for campaign in campaigns:
        stage = campaign.current_stage
        rows.append(
            {
                "slug": campaign.slug,
                "title": campaign.title,
                "year": campaign.year,
                "max_total": campaign.methodology.max_total,
                "stage": stage.value if stage else None,
                "basis": [
                    {"title": d.title, "number": d.number, "date": d.date.isoformat() if d.date else None}
                    for d in campaign.basis.all()
                ],
                "stages": [
                    {
                        "code": p.stage,
                        "title": str(p.display_title),
                        "starts": p.starts_on.isoformat(),
                        "ends": p.ends_on.isoformat(),
                    }
                    for p in campaign.stages.all()
                ],
                "previous": campaign.previous.slug if campaign.previous else None,
            }
        )
    return rows


class CampaignListView(ApiView):
    """The campaigns you take part in (every campaign for the national roles and the experts)."""

    @extend_schema(
        operation_id="campaign_list",
        parameters=COMMON_HEADERS,
        responses=read_only_responses({200: CampaignListSerializer}),
    )
    def get(self, request):
        return Response({"results": campaign_rows(access_for(request.user))})

"""The assessment's part of the JSON API: the campaigns, and the path parameters that name a campaign and a
municipality in every endpoint above it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment.models import Stage
from assessment.scope import campaigns_for
from municipalities.access import access_for
from municipalities.api import UNAUTHORIZED, ApiView, slug_parameter

CAMPAIGN_SLUG = slug_parameter("slug", "The campaign's short name, e.g. 2020-approbation.")
MUNICIPALITY_CODE = slug_parameter("code", "The municipality's code, e.g. elista.")


class CampaignSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    year = serializers.IntegerField()
    max_total = serializers.IntegerField(help_text="The methodology's maximum total (555 in 2020).")
    stage = serializers.ChoiceField(
        choices=Stage.choices, allow_null=True, help_text="The stage running today; null between stages."
    )


class CampaignListSerializer(serializers.Serializer):
    results = CampaignSerializer(many=True)


def campaign_rows(access):
    campaigns = (
        campaigns_for(access).select_related("methodology").prefetch_related("stages").order_by("-year", "title")
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
            }
        )
    return rows


class CampaignListView(ApiView):
    """The campaigns you take part in (every campaign for the national roles and the experts)."""

    @extend_schema(operation_id="campaign_list", responses={200: CampaignListSerializer, 401: UNAUTHORIZED})
    def get(self, request):
        return Response({"results": campaign_rows(access_for(request.user))})

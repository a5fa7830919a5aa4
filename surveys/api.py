"""Read-only JSON of the survey (a public interface, documented at /api/v1/), scoped like the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment.api import CAMPAIGN_SLUG
from assessment.scope import campaigns_for
from municipalities.access import access_for
from municipalities.api import COMMON_HEADERS, ApiView, DetailSerializer, read_only_responses
from surveys import stats


class RoleCountsSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    responded = serializers.IntegerField()
    rate = serializers.FloatField(help_text="responded / invited, 0…1")


class ByRoleSerializer(serializers.Serializer):
    director = RoleCountsSerializer()
    deputy = RoleCountsSerializer()
    teacher = RoleCountsSerializer()


class MunicipalityRatesSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    schools = serializers.IntegerField()
    invited = serializers.IntegerField()
    responded = serializers.IntegerField()
    rate = serializers.FloatField()
    by_role = ByRoleSerializer()


class RegionRatesSerializer(MunicipalityRatesSerializer):
    municipalities = MunicipalityRatesSerializer(many=True)


class ResponseRatesSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    regions = RegionRatesSerializer(many=True)


class ResponseRatesView(ApiView):
    """Survey response rates by region, municipality and respondent role, for what the viewer may see."""

    @extend_schema(
        operation_id="campaign_response_rates",
        parameters=[CAMPAIGN_SLUG, *COMMON_HEADERS],
        responses=read_only_responses(
            {
                200: ResponseRatesSerializer,
                404: OpenApiResponse(DetailSerializer, description="No such campaign, or not in your scope."),
            }
        ),
    )
    def get(self, request, slug):
        access = access_for(request.user)
        campaign = get_object_or_404(campaigns_for(access), slug=slug)
        return Response({"campaign": campaign.slug, "regions": stats.response_rates(campaign, access.municipalities())})

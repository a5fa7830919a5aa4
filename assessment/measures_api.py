"""The JSON API of plans of measures (a public interface, documented at /api/v1/): the measures a municipality planned
in answer to a campaign's results, their state, evidence and effect. Scoped exactly like the municipality's card
(reports/api.py): a campaign or a municipality outside the viewer's scope is a 404."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment import measure_selectors
from assessment.api import CAMPAIGN_SLUG, MUNICIPALITY_CODE
from assessment.models import Measure, MeasurePlan
from assessment.scope import submissions_for
from municipalities.access import access_for
from municipalities.api import COMMON_HEADERS, ApiView, DetailSerializer, read_only_responses


class CriterionEffectSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The criterion of the plan's campaign.")
    before = serializers.IntegerField(help_text="Its final points in the plan's campaign.")
    after = serializers.IntegerField(
        allow_null=True, help_text="The final points of its counterpart in the next campaign; null: no counterpart."
    )
    counterpart = serializers.CharField(allow_null=True, help_text="The counterpart's code in the next campaign.")


class EffectSerializer(serializers.Serializer):
    campaign = serializers.CharField(help_text="The next campaign, whose final results measured the effect.")
    criteria = CriterionEffectSerializer(many=True)


class MeasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    criteria = serializers.ListField(child=serializers.CharField(), help_text="Codes of the criteria it addresses.")
    responsible = serializers.CharField()
    due = serializers.DateField()
    status = serializers.ChoiceField(choices=Measure.Status.choices)
    expected_result = serializers.CharField()
    indicator = serializers.CharField()
    evidence = serializers.ListField(
        child=serializers.URLField(), help_text="Links and files given with the progress reports."
    )
    effect = EffectSerializer(
        allow_null=True, help_text="Null until the next campaign's results are final (and visible to you)."
    )


class PlanSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MeasurePlan.Status.choices)
    locked = serializers.BooleanField(help_text="Read-only: the next campaign's data collection has opened.")


class MeasuresSerializer(serializers.Serializer):
    plan = PlanSerializer(allow_null=True, help_text="Null while the municipality has drafted no plan.")
    results = MeasureSerializer(many=True)


def _evidence(request, measure):
    files = [request.build_absolute_uri(reverse("measure_file", args=[f.pk])) for f in measure.files]
    return [*measure.links, *files]


def _effect(row, measure):
    if row.measured is None:
        return None
    return {
        "campaign": row.measured.campaign.slug,
        "criteria": [
            {"code": e.code, "before": e.before, "after": e.after, "counterpart": e.counterpart}
            for e in measure.effects or []
        ],
    }


def measures_body(request, access, plan):
    if plan is None:
        return {"plan": None, "results": []}
    row = measure_selectors.plan_row(plan, access)
    return {
        "plan": {"status": plan.status, "locked": row.locked is not None},
        "results": [
            {
                "id": m.pk,
                "title": m.title,
                "criteria": [c.code for c in m.criteria_list],
                "responsible": m.responsible,
                "due": m.due_on.isoformat(),
                "status": m.status,
                "expected_result": m.expected_result,
                "indicator": m.indicator,
                "evidence": _evidence(request, m),
                "effect": _effect(row, m),
            }
            for m in row.measures
        ],
    }


class MeasuresView(ApiView):
    """The plan of measures a municipality made in answer to a campaign's results: each measure with the criteria it
    addresses, who is responsible, the due date, its status, expected result, indicator and evidence, and — once the
    next campaign's results are final — the points of its criteria before and after. Who sees it: as the card."""

    @extend_schema(
        operation_id="campaign_municipality_measures",
        parameters=[CAMPAIGN_SLUG, MUNICIPALITY_CODE, *COMMON_HEADERS],
        responses=read_only_responses(
            {
                200: MeasuresSerializer,
                404: OpenApiResponse(DetailSerializer, description="No such campaign or municipality, or not yours."),
            }
        ),
    )
    def get(self, request, slug, code):
        access = access_for(request.user)
        submission = get_object_or_404(
            submissions_for(access).select_related("campaign", "municipality"),
            campaign__slug=slug,
            municipality__code=code,
        )
        plan = (
            MeasurePlan.objects.filter(campaign=submission.campaign, municipality=submission.municipality)
            .select_related("campaign", "municipality")
            .first()
        )
        return Response(measures_body(request, access, plan))

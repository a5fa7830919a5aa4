"""The JSON API of the results (a public interface, documented at /api/v1/): a campaign's ranking and a
municipality's card.

Read-only and scoped like the pages: a campaign or a municipality outside the viewer's scope is a 404, the same
as one that does not exist. The serializers describe the responses for the OpenAPI schema; the data are built
by the plain functions below (a ranking of thousands of rows does not go through a serializer per field)."""

import hashlib
import json
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment.api import CAMPAIGN_SLUG, MUNICIPALITY_CODE
from assessment.models import LevelBand, Result, ReviewAssignment, Score, Submission
from assessment.scope import submissions_for
from municipalities.access import access_for
from municipalities.api import UNAUTHORIZED, ApiView, CodeNameSerializer, DetailSerializer
from municipalities.models import Municipality, Region
from reports import results

LIMIT_MAX = 5000
RANKING_CACHE_SECONDS = 3600


# --- the shapes, for the schema ------------------------------------------------------------------------------


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField(), help_text="What is wrong with the query.")


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        allow_null=True,
        help_text="The national rank; the rank in the region when filtered by region. Equal totals share a rank.",
    )
    municipality = CodeNameSerializer()
    region = CodeNameSerializer()
    total = serializers.IntegerField()
    max_total = serializers.IntegerField()
    share = serializers.FloatField(help_text="total / max_total, 0…1.")
    level = serializers.ChoiceField(choices=LevelBand.Level.choices)
    level_label = serializers.CharField(help_text="The level's name in the language of the request.")
    mechanisms = serializers.DictField(child=serializers.IntegerField(), help_text='Points per mechanism: {"1.1": 30}.')


class RankingSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    max_total = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Rows matching the filters, before limit and offset.")
    results = RankingRowSerializer(many=True)


class ScoreEntrySerializer(serializers.Serializer):
    round = serializers.ChoiceField(choices=Score.Round.choices)
    points = serializers.IntegerField()
    by = serializers.CharField(help_text="Full name of who gave the points.")
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True, help_text="The comment or reason given with the points.")


class ExplanationSerializer(serializers.Serializer):
    round = serializers.ChoiceField(choices=Score.Round.choices)
    by = serializers.CharField(help_text="Full name of who gave the current points.")
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    history = ScoreEntrySerializer(many=True, help_text="The values these points replaced, newest first.")


class CriterionPointsSerializer(serializers.Serializer):
    code = serializers.CharField()
    points = serializers.IntegerField(allow_null=True, help_text="Null when not scored yet or not visible to you.")
    max_points = serializers.IntegerField()
    explanation = ExplanationSerializer(allow_null=True)


class MechanismPointsSerializer(serializers.Serializer):
    code = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)
    max_points = serializers.IntegerField()
    level = serializers.ChoiceField(choices=LevelBand.Level.choices, allow_null=True)


class MunicipalityCardSerializer(serializers.Serializer):
    municipality = CodeNameSerializer()
    region = CodeNameSerializer()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    total = serializers.IntegerField(
        allow_null=True,
        help_text="Final once finalized; before, the current points for the coordinator, the national roles and "
        "the assigned expert, null for the municipality itself.",
    )
    max_total = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    level = serializers.ChoiceField(choices=LevelBand.Level.choices, allow_null=True)
    rank = serializers.IntegerField(
        allow_null=True,
        help_text="The national rank; null until finalized, and until published but for the national roles.",
    )
    mechanisms = MechanismPointsSerializer(many=True)
    criteria = CriterionPointsSerializer(many=True)


NOT_FOUND = OpenApiResponse(DetailSerializer, description="No such campaign or municipality, or not in your scope.")
NO_RANKING = OpenApiResponse(
    DetailSerializer, description="No such campaign or region, or its results are not published to you yet."
)


# --- the ranking ---------------------------------------------------------------------------------------------

WHOLE = re.compile(r"[0-9]{1,9}")
OFFSET_MAX = 999_999_999


@dataclass
class RankingQuery:
    filters: results.Filters
    limit: int | None
    offset: int
    problems: list

    @classmethod
    def of(cls, params):
        def text(name, default=""):
            return (params.get(name) or "").strip() or default

        problems = []
        limit, ok = _whole(text("limit"), LIMIT_MAX)
        if not ok:
            problems.append(_("«limit» must be a whole number from 0 to %(max)s.") % {"max": LIMIT_MAX})
        offset, ok = _whole(text("offset"), OFFSET_MAX)
        if not ok:
            problems.append(_("«offset» must be a whole number, 0 or more."))
        filters = results.Filters(
            region=text("region"), level=text("level"), kind=text("kind"), q=text("q"), sort=text("sort", "rank")
        )
        return cls(filters, limit, offset or 0, problems)

    def errors(self, campaign):
        return self.filters.errors(campaign) + self.problems

    def key(self):
        """The query in a canonical form: the order or spelling of the parameters does not change the ETag."""
        f = self.filters
        return "\x1f".join(map(str, (f.region, f.level, f.kind, f.q, f.sort, self.limit, self.offset)))


def _whole(value, maximum=None):
    """(the number, or None when absent or malformed; whether the value is well-formed)."""
    if not value:
        return None, True
    if WHOLE.fullmatch(value) and (maximum is None or int(value) <= maximum):
        return int(value), True
    return None, False


def ranking_etag(campaign, query):
    key = "|".join([str(campaign.pk), results.results_version(campaign), translation.get_language() or "", query.key()])
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def ranking_body(campaign, query):
    rows = results.ranking(campaign, query.filters)
    if query.limit is None and not query.offset:
        page = list(rows)
        count = len(page)
    else:
        count = rows.count()
        end = None if query.limit is None else query.offset + query.limit
        page = list(rows[query.offset : end])
    labels = results.level_labels(campaign)
    regional = bool(query.filters.region)
    return {
        "campaign": campaign.slug,
        "max_total": campaign.methodology.max_total,
        "count": count,
        "results": [results.row_dict(r, labels, regional=regional) for r in page],
    }


def _private(response):
    # Scoped data: no shared cache may keep it; a client revalidates with If-None-Match every time.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Accept-Language", "Authorization", "Cookie"])
    return response


class RankingView(ApiView):
    """The ranking of the municipalities of a campaign (all rows unless limit/offset), once its results may be
    seen: before publication by the operator and the ministry only. Served with an ETag that changes only when
    the results are recomputed: send it back in If-None-Match to get 304 Not Modified."""

    @extend_schema(
        operation_id="campaign_ranking",
        parameters=[
            CAMPAIGN_SLUG,
            OpenApiParameter("region", str, description="Region code: the regional ranking (rank in the region)."),
            # An empty value is "no filter" / the default order, as an HTML form sends it.
            OpenApiParameter(
                "level", str, enum=["", *results.LEVELS], description="Only this overall level (empty: all)."
            ),
            OpenApiParameter(
                "kind", str, enum=["", *Municipality.Kind.values], description="Kind of municipality (empty: all)."
            ),
            OpenApiParameter(
                "q", {"type": "string", "maxLength": 100}, description="Search in the municipality's name or code."
            ),
            OpenApiParameter(
                "sort", str, enum=["", *results.Filters.SORTS], default="rank", description="Order (empty: by rank)."
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX},
                description="At most this many rows; all by default.",
            ),
            OpenApiParameter(
                "offset", {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX}, description="Skip this many rows."
            ),
            OpenApiParameter(
                "If-None-Match", str, OpenApiParameter.HEADER, description="The ETag of a response you hold."
            ),
        ],
        responses={
            200: RankingSerializer,
            304: OpenApiResponse(description="Not modified: the ETag sent in If-None-Match is current."),
            400: OpenApiResponse(ErrorsSerializer, description="A malformed or unknown parameter value."),
            401: UNAUTHORIZED,
            404: NO_RANKING,
        },
    )
    def get(self, request, slug):
        campaign = results.campaign_results_for(access_for(request.user), slug)
        query = RankingQuery.of(request.query_params)
        if query.filters.region:
            get_object_or_404(Region, code=query.filters.region)
        errors = query.errors(campaign)
        if errors:
            return Response({"errors": errors}, status=400)
        etag = ranking_etag(campaign, query)
        response = get_conditional_response(request._request, etag=etag)
        if response is None:
            # The body depends only on the results version, the language and the query (all in the ETag):
            # a national ranking is built once per version and process, not per request.
            key = f"api-ranking:{etag}"
            body = cache.get(key)
            if body is None:
                body = json.dumps(ranking_body(campaign, query), ensure_ascii=False, separators=(",", ":")).encode()
                cache.set(key, body, RANKING_CACHE_SECONDS)
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        return _private(response)


# --- the municipality's card ---------------------------------------------------------------------------------

# Which current score stands for a criterion: the final one, an appeal decision, an expert's, the pre-score;
# the latest within a round.
ROUND_ORDER = {Score.Round.FINAL: 0, Score.Round.APPEAL: 1, Score.Round.EXPERT: 2, Score.Round.PRESCORE: 3}


def points_scope(access, submission, result):
    """What of the points the viewer sees: "all" (finalized: everyone who sees the card; before: the national
    roles and the region's coordinator), "expert" (an assigned expert before finalization: their own scores, the
    reconciled ones and the pre-score unless the review is blind), or None (the municipality itself and anyone
    else before finalization)."""
    if result is not None:
        return "all"
    if access.is_national or submission.municipality.region_id in access.coordinated_region_ids:
        return "all"
    if (
        access.is_expert
        and ReviewAssignment.objects.filter(submission=submission, expert_id=access.user_id, is_active=True).exists()
    ):
        return "expert"
    return None


def _shown(score, scope, viewer_id, blind):
    if scope == "all":
        return True
    if score.round == Score.Round.EXPERT:
        return score.by_id == viewer_id
    if score.round == Score.Round.PRESCORE:
        return not blind
    return True


def _entry(score):
    return {
        "round": score.round,
        "points": score.points,
        "by": score.by.get_full_name() or score.by.username,
        "at": timezone.localtime(score.at).isoformat(),
        "reason": score.comment,
    }


def explanations(submission, scope, viewer_id):
    """{criterion id: (the score standing for it, [the scores it replaced, newest first])}, from the
    submission's scores loaded once and what the viewer may see of them."""
    if scope is None:
        return {}
    blind = submission.campaign.blind_review
    scores = {s.pk: s for s in Score.objects.filter(submission=submission).select_related("by")}
    best = {}
    for s in scores.values():
        if not s.is_current or not _shown(s, scope, viewer_id, blind):
            continue
        held = best.get(s.criterion_id)
        if held is None or (ROUND_ORDER[s.round], -s.at.timestamp()) < (ROUND_ORDER[held.round], -held.at.timestamp()):
            best[s.criterion_id] = s
    found = {}
    for criterion_id, score in best.items():
        history, seen, step = [], {score.pk}, scores.get(score.previous_id)
        while step is not None and step.pk not in seen:
            seen.add(step.pk)
            if _shown(step, scope, viewer_id, blind):
                history.append(step)
            step = scores.get(step.previous_id)
        found[criterion_id] = (score, history)
    return found


def municipality_card(access, submission):
    campaign = submission.campaign
    municipality = submission.municipality
    result = Result.objects.filter(submission=submission).first()
    criteria = results.criteria_of(campaign)
    scope = points_scope(access, submission, result)
    explained = explanations(submission, scope, access.user_id)
    rows, sums, maxima, mechanisms = [], {}, {}, {}
    for c in criteria:
        code = c.mechanism.code
        mechanisms.setdefault(code, c.mechanism)
        maxima[code] = maxima.get(code, 0) + c.max_points
        score, history = explained.get(c.pk, (None, []))
        explanation = None
        if score is not None:
            sums[code] = sums.get(code, 0) + score.points
            current = _entry(score)
            explanation = {
                "round": current["round"],
                "by": current["by"],
                "at": current["at"],
                "reason": current["reason"],
                "history": [_entry(s) for s in history],
            }
        rows.append(
            {
                "code": c.code,
                "points": score.points if score else None,
                "max_points": c.max_points,
                "explanation": explanation,
            }
        )
    max_total = result.max_total if result else sum(maxima.values())
    if result is not None:
        total, share, level = result.total, float(result.share), result.level
        # The rank compares with every other participant: a result, hidden until publication.
        rank = result.rank_country if access.may_see_results(campaign) else None
        by_mechanism = []
        for code in mechanisms:
            entry = result.mechanisms.get(code) or {"points": sums.get(code, 0), "max": maxima[code], "level": None}
            by_mechanism.append(
                {"code": code, "points": entry["points"], "max_points": entry["max"], "level": entry["level"]}
            )
    else:
        # Current, not final, points: a level is given as a guide where any points are visible.
        bands = campaign.methodology.bands
        total = sum(sums.values()) if sums else None
        share = round(total / max_total, 4) if total is not None and max_total else None
        level = bands.level(total, max_total) if total is not None else None
        rank = None
        by_mechanism = [
            {
                "code": code,
                "points": sums.get(code),
                "max_points": maxima[code],
                "level": bands.level(sums[code], maxima[code]) if code in sums else None,
            }
            for code in mechanisms
        ]
    return {
        "municipality": {"code": municipality.code, "name": municipality.name},
        "region": {"code": municipality.region.code, "name": municipality.region.name},
        "status": submission.status,
        "total": total,
        "max_total": max_total,
        "share": share,
        "level": level,
        "rank": rank,
        "mechanisms": by_mechanism,
        "criteria": rows,
    }


class MunicipalityCardView(ApiView):
    """A municipality's card in a campaign: status, totals, level and rank, points per mechanism and per
    criterion with who gave them, when and why. The national roles see every participant, a coordinator their
    region, an organizer their municipality, an expert the submissions assigned to them. Before finalization the
    municipality sees no points; after it, everyone who sees the card sees the final points."""

    @extend_schema(
        operation_id="campaign_municipality",
        parameters=[CAMPAIGN_SLUG, MUNICIPALITY_CODE],
        responses={200: MunicipalityCardSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request, slug, code):
        access = access_for(request.user)
        submission = get_object_or_404(
            submissions_for(access).select_related("campaign__methodology", "municipality__region"),
            campaign__slug=slug,
            municipality__code=code,
        )
        return Response(municipality_card(access, submission))


# --- the documentation page ----------------------------------------------------------------------------------


@require_safe
def docs(request):
    """How to use the API, with a curl example per endpoint; the schema itself is at /api/v1/schema/."""
    base = request.build_absolute_uri(reverse("api-docs"))
    return render(
        request,
        "api/docs.html",
        {
            "base": base,
            "schema_url": request.build_absolute_uri(reverse("api-schema")),
            "example": {"campaign": "2020-approbation", "region": "08", "municipality": "elista"},
        },
    )

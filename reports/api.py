"""The JSON API of the results (a public interface, documented at /api/v1/): a campaign's ranking and a
municipality's card.

Read-only and scoped like the pages: a campaign or a municipality outside the viewer's scope is a 404, the same
as one that does not exist. The serializers describe the responses for the OpenAPI schema; the data are built
by the plain functions below (a ranking of thousands of rows does not go through a serializer per field)."""

import hashlib
import json
import re
from dataclasses import dataclass

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessment import dynamics, scoring
from assessment.api import CAMPAIGN_SLUG, MUNICIPALITY_CODE
from assessment.models import LevelBand, Result, Score, Submission
from assessment.scope import submissions_for
from assessment.scores import score_chain, standing
from municipalities import compression
from municipalities.access import access_for
from municipalities.api import COMMON_HEADERS, ApiView, CodeNameSerializer, DetailSerializer, read_only_responses
from municipalities.models import Municipality, Region
from reports import results

LIMIT_MAX = 5000
RANKING_CACHE_SECONDS = 3600


# --- the shapes, for the schema ------------------------------------------------------------------------------


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField(), help_text="What is wrong with the query.")


class ChangeSerializer(serializers.Serializer):
    total = serializers.IntegerField(
        help_text="Points gained since the previous campaign (negative: lost); on comparable criteria only when "
        "comparable_only."
    )
    share = serializers.FloatField(help_text="Change of the share of the maximum, -1…1 (0.05 is 5 percentage points).")
    rank = serializers.IntegerField(
        allow_null=True, help_text="Places gained in the ranking (the previous rank minus this one; positive: up)."
    )
    level_from = serializers.ChoiceField(
        choices=LevelBand.Level.choices, help_text="The level in the previous campaign."
    )
    level_to = serializers.ChoiceField(choices=LevelBand.Level.choices, help_text="The level in this campaign.")
    comparable_only = serializers.BooleanField(
        help_text="The campaigns used different editions of the methodology and not every criterion has a "
        "counterpart of the same maximum: total and share are compared on the criteria that have one."
    )


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
    previous_total = serializers.IntegerField(
        allow_null=True,
        help_text="The total in the campaign this one follows; null when it follows none (or none whose results "
        "you may see) or the municipality was not in it.",
    )
    change = ChangeSerializer(allow_null=True, help_text="The change since the previous campaign; null as above.")


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
    previous_points = serializers.IntegerField(
        allow_null=True,
        help_text="The points of the mechanism's criteria in the previous campaign (of their counterparts, when the "
        "methodologies differ); null without a previous campaign or a comparable criterion.",
    )


class PreviousSerializer(serializers.Serializer):
    campaign = serializers.CharField(help_text="The previous campaign's slug.")
    total = serializers.IntegerField()
    max_total = serializers.IntegerField()
    share = serializers.FloatField()
    level = serializers.ChoiceField(choices=LevelBand.Level.choices)
    rank = serializers.IntegerField(allow_null=True, help_text="The national rank in the previous campaign.")


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
    previous = PreviousSerializer(
        allow_null=True,
        help_text="The municipality in the campaign this one follows; null when it follows none whose results you "
        "may see, or the municipality was not finalized in it.",
    )


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
        # Typed as integers in the schema: taken as sent, so an empty or padded value is refused, not read as «all».
        limit, ok = _whole(params.get("limit"), LIMIT_MAX)
        if not ok:
            problems.append(_("«limit» must be a whole number from 0 to %(max)s.") % {"max": LIMIT_MAX})
        offset, ok = _whole(params.get("offset"), OFFSET_MAX)
        if not ok:
            problems.append(_("«offset» must be a whole number, 0 or more."))
        filters = results.Filters(
            region=text("region"),
            level=text("level"),
            kind=text("kind"),
            q=text("q"),
            sort=text("sort", "rank"),
            change=text("change"),
        )
        return cls(filters, limit, offset or 0, problems)

    def errors(self, campaign):
        return self.filters.errors(campaign) + self.problems

    def key(self):
        """The query in a canonical form: the order or spelling of the parameters does not change the ETag."""
        f = self.filters
        return "\x1f".join(map(str, (f.region, f.level, f.kind, f.q, f.sort, f.change, self.limit, self.offset)))


def _whole(value, maximum=None):
    """(the number, or None when absent or malformed; whether the value is well-formed)."""
    if value is None:
        return None, True
    if WHOLE.fullmatch(value) and (maximum is None or int(value) <= maximum):
        return int(value), True
    return None, False


def ranking_etag(campaign, query, succession=None):
    key = "|".join(
        [
            str(campaign.pk),
            results.results_version(campaign),
            results.succession_key(succession),
            translation.get_language() or "",
            query.key(),
        ]
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def ranking_body(campaign, query, succession=None):
    rows = results.ranking(campaign, query.filters, succession)
    if query.limit is None and not query.offset:
        page = list(rows)
        count = len(page)
    else:
        count = rows.count()
        end = None if query.limit is None else query.offset + query.limit
        page = list(rows[query.offset : end])
    labels = results.level_labels(campaign)
    regional = bool(query.filters.region)
    page = results.with_changes(page, succession, regional=regional)
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
                "change",
                str,
                enum=["", *dynamics.CHANGE_FILTERS],
                description="Only the municipalities that improved, worsened, moved up or down a level since the "
                "previous campaign (empty: all). None passes when the campaign follows none whose results you may "
                "see.",
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
            OpenApiParameter(
                "ETag",
                str,
                OpenApiParameter.HEADER,
                required=True,
                response=[200, 304],
                description="The version of this answer: send it back in If-None-Match.",
            ),
            *COMMON_HEADERS,
        ],
        responses=read_only_responses(
            {
                200: RankingSerializer,
                304: OpenApiResponse(description="Not modified: the ETag sent in If-None-Match is current."),
                400: OpenApiResponse(ErrorsSerializer, description="A malformed or unknown parameter value."),
                404: NO_RANKING,
            }
        ),
    )
    def get(self, request, slug):
        access = access_for(request.user)
        campaign = results.campaign_results_for(access, slug)
        query = RankingQuery.of(request.query_params)
        if query.filters.region:
            get_object_or_404(Region, code=query.filters.region)
        succession = results.succession_for(access, campaign)
        errors = query.errors(campaign)
        if errors:
            return Response({"errors": errors}, status=400)
        etag = ranking_etag(campaign, query, succession)
        # The body depends only on the results version, the language and the query (all in the ETag): a national
        # ranking is built once per version and process, and compressed once per coding (compression.py).
        response = compression.cached_response(
            request._request,
            key=f"api-ranking:{etag}",
            etag=etag,
            build=lambda: json.dumps(
                ranking_body(campaign, query, succession), ensure_ascii=False, separators=(",", ":")
            ).encode(),
            content_type="application/json",
            timeout=RANKING_CACHE_SECONDS,
        )
        return _private(response)


# --- the municipality's card ---------------------------------------------------------------------------------


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
    """{criterion id: (the score standing for it, [the scores it replaced, newest first])} of what the viewer
    may see (access.points_scope), by the rules of the page: scores.standing and scores.score_chain."""
    if scope is None:
        return {}
    blind = submission.campaign.blind_review
    scores = {s.pk: s for s in Score.objects.filter(submission=submission).select_related("by")}
    best = standing(s for s in scores.values() if _shown(s, scope, viewer_id, blind))
    return {
        criterion_id: (score, [s for s in score_chain(score, scores) if _shown(s, scope, viewer_id, blind)])
        for criterion_id, score in best.items()
    }


def _criterion_rows(criteria, explained):
    """The card's criteria, and {criterion code: points} of those with visible points."""
    rows, points = [], {}
    for c in criteria:
        score, history = explained.get(c.pk, (None, []))
        explanation = None
        if score is not None:
            points[c.code] = score.points
            current = _entry(score)
            explanation = {key: current[key] for key in ("round", "by", "at", "reason")}
            explanation["history"] = [_entry(s) for s in history]
        rows.append(
            {
                "code": c.code,
                "points": score.points if score else None,
                "max_points": c.max_points,
                "explanation": explanation,
            }
        )
    return rows, points


def _totals(access, campaign, result, criteria, points):
    """(total, max_total, share, level, rank, mechanisms) of the card: the Result once finalized; before, the
    current visible points summarized by scoring.summarize (a level as a guide where any points are visible)."""
    specs = [scoring.CriterionSpec(c.code, c.mechanism.code, c.max_points) for c in criteria]
    summary = scoring.summarize(points, specs, campaign.methodology.bands)
    scored = {spec.mechanism for spec in specs if spec.code in points}
    if result is not None:
        # The rank compares with every other participant: a result, hidden until publication.
        rank = result.rank_country if access.may_see_results(campaign) else None
        mechanisms = []
        for code, entry in summary.mechanisms.items():
            stored = result.mechanisms.get(code) or {**entry, "level": None}
            mechanisms.append(
                {"code": code, "points": stored["points"], "max_points": stored["max"], "level": stored["level"]}
            )
        return result.total, result.max_total, float(result.share), result.level, rank, mechanisms
    mechanisms = [
        {
            "code": code,
            "points": entry["points"] if code in scored else None,
            "max_points": entry["max"],
            "level": entry["level"] if code in scored else None,
        }
        for code, entry in summary.mechanisms.items()
    ]
    if not points:
        return None, summary.max_total, None, None, None, mechanisms
    share = float(round(summary.share, 4)) if summary.max_total else None
    return summary.total, summary.max_total, share, summary.level, None, mechanisms


def _previous(access, campaign, municipality, criteria, mechanisms):
    """The card's `previous` (or None), and each mechanism row's `previous_points`: the previous campaign's
    figures only for whoever may see its results."""
    for row in mechanisms:
        row["previous_points"] = None
    succession = dynamics.succession_of(campaign, access)
    if succession is None:
        return None
    before = dynamics.standings(succession.previous, [municipality.pk]).get(municipality.pk)
    if before is None:
        return None
    compared = dynamics.compare(
        dynamics.previous_points(succession, municipality.pk),
        {},
        succession.correspondence,
        dynamics.refs_of(criteria),
        group=lambda spec: spec.mechanism,
    )
    for row in mechanisms:
        entry = compared.get(row["code"])
        row["previous_points"] = entry.before if entry else None
    return {
        "campaign": succession.previous.slug,
        "total": before.total,
        "max_total": before.max_total,
        "share": float(before.share),
        "level": before.level,
        "rank": before.rank_country,
    }


def municipality_card(access, submission):
    campaign = submission.campaign
    municipality = submission.municipality
    result = Result.objects.filter(submission=submission).order_by("pk").first()
    criteria = results.criteria_of(campaign)
    explained = explanations(submission, access.points_scope(submission, result is not None), access.user_id)
    rows, points = _criterion_rows(criteria, explained)
    total, max_total, share, level, rank, mechanisms = _totals(access, campaign, result, criteria, points)
    previous = _previous(access, campaign, municipality, criteria, mechanisms)
    return {
        "municipality": {"code": municipality.code, "name": municipality.name},
        "region": {"code": municipality.region.code, "name": municipality.region.name},
        "status": submission.status,
        "total": total,
        "max_total": max_total,
        "share": share,
        "level": level,
        "rank": rank,
        "mechanisms": mechanisms,
        "criteria": rows,
        "previous": previous,
    }


class MunicipalityCardView(ApiView):
    """A municipality's card in a campaign: status, totals, level and rank, points per mechanism and per
    criterion with who gave them, when and why. The national roles see every participant, a coordinator their
    region, an organizer their municipality, an expert the submissions assigned to them. Before finalization the
    municipality sees no points; after it, everyone who sees the card sees the final points."""

    @extend_schema(
        operation_id="campaign_municipality",
        parameters=[CAMPAIGN_SLUG, MUNICIPALITY_CODE, *COMMON_HEADERS],
        responses=read_only_responses({200: MunicipalityCardSerializer, 404: NOT_FOUND}),
    )
    def get(self, request, slug, code):
        access = access_for(request.user)
        submission = get_object_or_404(
            submissions_for(access).select_related(
                "campaign__methodology", "campaign__previous", "municipality__region"
            ),
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

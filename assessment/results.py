"""The Result of a finalized submission: the criteria as scoring.py wants them, the current points of a round,
and the recomputation of every Result and rank of a campaign (after finalization and appeal decisions)."""

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from assessment import scoring
from assessment.models import Criterion, Result, Score, Submission

DONE = (Submission.Status.FINALIZED, Submission.Status.APPEALED)
FIELDS = ("municipality_id", "total", "max_total", "share", "level", "mechanisms", "rank_region", "rank_country")


def specs_for(methodology_id):
    return [
        scoring.CriterionSpec(code, mechanism, max_points)
        for code, mechanism, max_points in Criterion.objects.filter(mechanism__methodology=methodology_id)
        .order_by("mechanism__order", "component__order")
        .values_list("code", "mechanism__code", "max_points")
    ]


def current_points(submission_ids, round):
    """{submission_id: {criterion code: points}} of the current scores of a round."""
    points = {sid: {} for sid in submission_ids}
    for sid, code, value in Score.objects.filter(
        submission_id__in=submission_ids, round=round, is_current=True
    ).values_list("submission_id", "criterion__code", "points"):
        points[sid][code] = value
    return points


def _summaries(campaign):
    """({submission id: scoring.Summary}, {submission id: municipality id}, {submission id: region id}) of the
    finalized submissions: points summed per mechanism in the database (one GROUP BY), levels in scoring.py."""
    finalized, regions = {}, {}
    for pk, municipality_id, region_id in campaign.submissions.filter(status__in=DONE).values_list(
        "pk", "municipality_id", "municipality__region_id"
    ):
        finalized[pk], regions[pk] = municipality_id, region_id
    maxima = {}
    for spec in specs_for(campaign.methodology_id):
        maxima[spec.mechanism] = maxima.get(spec.mechanism, 0) + spec.max_points
    sums = {pk: {} for pk in finalized}
    for sid, mechanism, points in (
        Score.objects.filter(
            submission__campaign=campaign, submission__status__in=DONE, round=Score.Round.FINAL, is_current=True
        )
        .values_list("submission_id", "criterion__mechanism__code")
        .annotate(points=Sum("points"))
        .values_list("submission_id", "criterion__mechanism__code", "points")
    ):
        sums[sid][mechanism] = points
    bands = campaign.methodology.bands
    return {pk: scoring.summarize_mechanisms(sums[pk], maxima, bands) for pk in finalized}, finalized, regions


def _ranks(summaries, regions):
    """({submission id: rank in the country}, {submission id: rank in its region})."""
    ids = list(summaries)
    country = dict(zip(ids, scoring.competition_ranks([summaries[pk].total for pk in ids]), strict=True))
    by_region = {}
    for pk in ids:
        by_region.setdefault(regions[pk], []).append(pk)
    region_rank = {}
    for members in by_region.values():
        region_rank.update(
            zip(members, scoring.competition_ranks([summaries[pk].total for pk in members]), strict=True)
        )
    return country, region_rank


def results_compute(*, campaign):
    """(Re)compute the Result of every finalized submission of the campaign, and all ranks.

    Levels and ranks come from scoring.py, and the results are replaced in bulk: a national campaign is
    recomputed in a few statements."""
    summaries, finalized, regions = _summaries(campaign)
    country, region_rank = _ranks(summaries, regions)
    # A Result is a materialized view of the final scores. Only rows whose values changed are written (with
    # their version counting the changes), so recomputing unchanged results writes nothing and keeps every
    # cache keyed by the results version valid.
    existing = {
        row[0]: (row[1], row[2], row[3:])
        for row in Result.objects.filter(campaign=campaign).values_list("submission_id", "pk", "version", *FIELDS)
    }
    now = timezone.now()
    created, changed = [], []
    for pk, summary in summaries.items():
        values = (
            finalized[pk],
            summary.total,
            summary.max_total,
            round(summary.share, 4),
            summary.level,
            summary.mechanisms,
            region_rank[pk],
            country[pk],
        )
        old = existing.get(pk)
        if old is not None and old[2] == values:
            continue
        row = Result(
            submission_id=pk,
            campaign=campaign,
            computed_at=now,
            version=old[1] + 1 if old else 1,
            **dict(zip(FIELDS, values, strict=True)),
        )
        if old is None:
            created.append(row)
        else:
            row.pk = old[0]
            changed.append(row)
    gone = [old[0] for sid, old in existing.items() if sid not in summaries]
    with transaction.atomic():
        if gone:
            Result.objects.filter(pk__in=gone).delete()
        Result.objects.bulk_create(created, batch_size=1000)
        Result.objects.bulk_update(changed, [*FIELDS, "computed_at", "version"], batch_size=1000)
    return len(summaries)

"""The Result of a finalized submission: the criteria as scoring.py wants them, the current points of a round,
and the recomputation of every Result and rank of a campaign (after finalization and appeal decisions)."""

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from assessment import scoring
from assessment.models import Campaign, Criterion, Mechanism, Result, Score, Submission, new_results_version

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
    # No order: the default one (Score.Meta) joins five tables to sort rows that only fill a dict.
    for sid, code, value in (
        Score.objects.filter(submission_id__in=submission_ids, round=round, is_current=True)
        .order_by()
        .values_list("submission_id", "criterion__code", "points")
    ):
        points[sid][code] = value
    return points


def level_case(bands, points, maximum):
    """SQL for the level band of `points` out of `maximum` (two SQL expressions): the rule of scoring.Bands.level
    in exact integer arithmetic — points / maximum >= start as points × q >= p × maximum for start = p / q — and
    the lowest band for a zero maximum. tests/test_speed_results.py checks it against scoring.py on every edge."""
    lowest = bands.starts[0][1]
    branches = [f"WHEN ({maximum}) = 0 THEN '{_code(lowest)}'"]
    for start, code in reversed(bands.starts):  # the last band (in ascending order) whose start is reached wins
        p, q = start.as_integer_ratio()
        branches.append(f"WHEN ({points}) * {q} >= {p} * ({maximum}) THEN '{_code(code)}'")
    return f"CASE {' '.join(branches)} ELSE '{_code(lowest)}' END"


def _code(code):
    if not str(code).replace("_", "").isalnum():
        raise ValueError(f"unexpected level code {code!r}")
    return code


# A mechanism's points in a stored Result (Result.mechanisms), read in SQL: the only part that is not standard SQL.
_STORED_POINTS = {
    "postgresql": "CAST(res.mechanisms -> %(m{i})s ->> 'points' AS INTEGER) IS DISTINCT FROM ranked.p{i}",
    "sqlite": "json_extract(res.mechanisms, %(path{i})s) IS NOT ranked.p{i}",
}


def _mechanism_columns(methodology_id):
    """[(mechanism code, its maximum, its id)] of the methodology's mechanisms that have criteria, in order."""
    return list(
        Mechanism.objects.filter(methodology_id=methodology_id, criteria__isnull=False)
        .annotate(maximum=Sum("criteria__max_points"))
        .order_by("order", "pk")
        .values_list("code", "maximum", "pk")
    )


def _statement(vendor, bands, mechanisms):
    """One statement: the final points of every finalized submission per mechanism (a column each), the total,
    the level and the ranks (RANK(): equal totals share a rank, the next skips, as scoring.competition_ranks),
    compared with the stored Result, returning only the submissions whose Result is new or differs. A mechanism's
    entry is compared by its points: its maximum and level follow from them and the methodology, which is frozen
    once a campaign uses it (Methodology.guard_editable)."""
    t = {
        "submission": Submission._meta.db_table,
        "municipality": Submission._meta.get_field("municipality").related_model._meta.db_table,
        "score": Score._meta.db_table,
        "criterion": Criterion._meta.db_table,
        "result": Result._meta.db_table,
    }
    sums = [
        f"SUM(sc.points) FILTER (WHERE cr.mechanism_id = {int(mechanism_id)}) AS p{i}"
        for i, (_code, _max, mechanism_id) in enumerate(mechanisms)
    ]
    total = " + ".join(f"per.p{i}" for i in range(len(mechanisms))) or "0"
    max_total = sum(maximum for _code, maximum, _ids in mechanisms)
    stored = "".join(f"\n       OR {_STORED_POINTS[vendor].format(i=i)}" for i in range(len(mechanisms)))
    points = ", ".join(f"COALESCE(sums.p{i}, 0) AS p{i}" for i in range(len(mechanisms)))
    return f"""
    WITH sums AS (
        SELECT sc.submission_id AS sid{"".join(", " + c for c in sums)}
        FROM {t["score"]} sc
        JOIN {t["criterion"]} cr ON cr.id = sc.criterion_id
        JOIN {t["submission"]} s ON s.id = sc.submission_id
        WHERE s.campaign_id = %(campaign)s AND s.status IN (%(finalized)s, %(appealed)s)
          AND sc.round = %(round)s AND sc.is_current
        GROUP BY sc.submission_id
    ), per AS (
        SELECT s.id AS sid, s.municipality_id AS mid, m.region_id AS rid{", " + points if points else ""}
        FROM {t["submission"]} s
        JOIN {t["municipality"]} m ON m.id = s.municipality_id
        LEFT JOIN sums ON sums.sid = s.id
        WHERE s.campaign_id = %(campaign)s AND s.status IN (%(finalized)s, %(appealed)s)
    ), ranked AS (
        SELECT per.*, {total} AS total,
               RANK() OVER (ORDER BY {total} DESC) AS rank_country,
               RANK() OVER (PARTITION BY per.rid ORDER BY {total} DESC) AS rank_region
        FROM per
    )
    SELECT ranked.*, res.id, res.version
    FROM ranked LEFT JOIN {t["result"]} res ON res.submission_id = ranked.sid
    WHERE res.id IS NULL OR res.campaign_id <> %(campaign)s OR res.municipality_id <> ranked.mid
       OR res.total <> ranked.total OR res.max_total <> {int(max_total)}
       OR res.level <> {level_case(bands, "ranked.total", max_total)}
       OR COALESCE(res.rank_country, 0) <> ranked.rank_country OR COALESCE(res.rank_region, 0) <> ranked.rank_region{stored}"""


def _changed_results(campaign):
    """{submission id: (values of FIELDS, result id or None, its version)} of the Results to write: sums and ranks
    from the database, levels and the share from scoring.py."""
    bands = campaign.methodology.bands
    mechanisms = _mechanism_columns(campaign.methodology_id)
    params = {
        "campaign": campaign.pk,
        "finalized": Submission.Status.FINALIZED.value,
        "appealed": Submission.Status.APPEALED.value,
        "round": Score.Round.FINAL.value,
        **{f"m{i}": code for i, (code, _max, _id) in enumerate(mechanisms)},
        **{f"path{i}": f'$."{code}".points' for i, (code, _max, _id) in enumerate(mechanisms)},
    }
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor, bands, mechanisms), params)
        rows = cursor.fetchall()
    maxima = {code: maximum for code, maximum, _ids in mechanisms}
    found = {}
    for sid, mid, _rid, *points, total, rank_country, rank_region, result_id, version in rows:
        summary = scoring.summarize_mechanisms(dict(zip(maxima, points, strict=True)), maxima, bands)
        assert summary.total == total, (summary.total, total)
        values = [
            mid,
            summary.total,
            summary.max_total,
            round(summary.share, 4),
            summary.level,
            summary.mechanisms,
            rank_region,
            rank_country,
        ]
        found[sid] = (values, result_id, version)
    return found


def results_compute(*, campaign):
    """(Re)compute the Result of every finalized submission of the campaign, and all ranks; returns the number of
    Results written.

    Sums per mechanism, totals and ranks are made by the database in one statement that also compares them (and
    the level, level_case) with the stored Results and returns only those that differ: a national campaign
    recomputed unchanged returns nothing. The rows it returns get their levels and share from scoring.py; only
    they are written, their version counting the changes, so recomputing unchanged results writes nothing and keeps
    every cache keyed by the results version valid."""
    found = _changed_results(campaign)
    now = timezone.now()
    created, changed = [], []
    for sid, (values, result_id, version) in found.items():
        row = Result(
            submission_id=sid,
            campaign=campaign,
            computed_at=now,
            version=version + 1 if result_id else 1,
            **dict(zip(FIELDS, values, strict=True)),
        )
        if result_id is None:
            created.append(row)
        else:
            row.pk = result_id
            changed.append(row)
    with transaction.atomic():
        removed, _kinds = (
            Result.objects.filter(campaign=campaign)
            .exclude(submission__campaign=campaign, submission__status__in=DONE)
            .delete()
        )
        Result.objects.bulk_create(created, batch_size=1000)
        Result.objects.bulk_update(changed, [*FIELDS, "campaign", "computed_at", "version"], batch_size=1000)
        if removed or created or changed:
            campaign.results_version = new_results_version()
            Campaign.objects.filter(pk=campaign.pk).update(results_version=campaign.results_version)
    return len(created) + len(changed)

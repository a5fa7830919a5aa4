"""Speed (issue 17 part 7, 3): results recomputed by the database in one statement — sums per mechanism, totals,
ranks (window functions) and the comparison with the stored Results — with scoring.py still the one place of the
rules: the SQL form of the level bands agrees with scoring.Bands on every band edge, and what is written equals
what scoring.py computes."""

import random
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from assessment import scoring
from assessment.models import Criterion, Participation, Result, Score, Submission
from assessment.results import level_case, results_compute, specs_for
from municipalities.models import Municipality, Region

BANDS = [
    scoring.DEFAULT_BANDS,
    scoring.Bands.of(
        [("not_formed", "0"), ("separate_elements", "0.3333"), ("partially_formed", "0.5"), ("formed", "0.9999")]
    ),
    scoring.Bands.of(
        [("not_formed", "0"), ("separate_elements", "0.01"), ("partially_formed", "0.01"), ("formed", "1")]
    ),
    scoring.Bands.of([("not_formed", "0")]),
]


def _pairs():
    """Every (points, maximum) for small maxima; for the real maxima (9 mechanisms, 555 in all) the points on
    both sides of every band start."""
    pairs = {(p, m) for m in range(41) for p in range(m + 1)}
    for m in (59, 65, 295, 555, 1000):
        for bands in BANDS:
            for start, _code in bands.starts:
                edge = int(start * m)
                pairs.update((p, m) for p in range(max(edge - 2, 0), min(edge + 3, m) + 1))
    return sorted(pairs)


@pytest.mark.django_db
@pytest.mark.parametrize("bands", BANDS, ids=["default", "odd", "equal-starts", "one-band"])
def test_the_sql_levels_agree_with_scoring_on_every_band_edge(bands):
    pairs = _pairs()
    found = []
    with connection.cursor() as cursor:
        for i in range(0, len(pairs), 400):
            chunk = pairs[i : i + 400]
            values = ", ".join(f"({p}, {m})" for p, m in chunk)
            cursor.execute(
                f"SELECT column1, column2, {level_case(bands, 'column1', 'column2')} FROM (VALUES {values}) AS t"
            )
            found += cursor.fetchall()

    assert len(found) == len(pairs) > 1000
    wrong = [(p, m, level) for p, m, level in found if level != bands.level(p, m)]
    assert wrong == []


def test_a_level_code_is_never_spliced_into_sql_unchecked():
    bands = scoring.Bands.of([("x'; DROP TABLE t; --", "0")])

    with pytest.raises(ValueError):
        level_case(bands, "p", "m")


# --- the recomputation -------------------------------------------------------------------------------------------


def _national(world, n, rng):
    """`n` more municipalities in three regions, finalized in the world's campaign with random final points (many
    ties): the campaign."""
    regions = [world.region, world.other_region, Region.objects.create(code="77", name="Третий регион")]
    municipalities = Municipality.objects.bulk_create(
        Municipality(region=regions[i % 3], code=f"n-{i:03d}", name=f"Муниципалитет {i:03d}") for i in range(n)
    )
    return municipalities


def _expected(campaign):
    """Every Result as the pure scoring rules make them: {submission id: (fields...)}."""
    specs = specs_for(campaign.methodology_id)
    bands = campaign.methodology.bands
    done = list(campaign.submissions.filter(status__in=["finalized", "appealed"]).select_related("municipality"))
    points = {s.pk: {} for s in done}
    for sid, code, p in Score.objects.filter(submission__in=done, round=Score.Round.FINAL, is_current=True).values_list(
        "submission_id", "criterion__code", "points"
    ):
        points[sid][code] = p
    summaries = {s.pk: scoring.summarize(points[s.pk], specs, bands) for s in done}
    country = dict(zip(summaries, scoring.competition_ranks([x.total for x in summaries.values()]), strict=True))
    region = {}
    for rid in {s.municipality.region_id for s in done}:
        members = [s.pk for s in done if s.municipality.region_id == rid]
        region.update(zip(members, scoring.competition_ranks([summaries[m].total for m in members]), strict=True))
    return {
        s.pk: (
            s.municipality_id,
            summaries[s.pk].total,
            summaries[s.pk].max_total,
            round(summaries[s.pk].share, 4),
            summaries[s.pk].level,
            summaries[s.pk].mechanisms,
            region[s.pk],
            country[s.pk],
        )
        for s in done
    }


def _stored(campaign):
    return {
        r.submission_id: (
            r.municipality_id,
            r.total,
            r.max_total,
            r.share,
            r.level,
            r.mechanisms,
            r.rank_region,
            r.rank_country,
        )
        for r in Result.objects.filter(campaign=campaign)
    }


@pytest.fixture
def national(finalized, world):
    """conftest's finalized campaign with 60 more finalized municipalities in three regions: random points, many
    equal totals; one submission finalized without a single final score."""
    rng = random.Random(17)
    municipalities = _national(world, 60, rng)
    Participation.objects.bulk_create(Participation(campaign=finalized, municipality=m) for m in municipalities)
    submissions = Submission.objects.bulk_create(
        Submission(campaign=finalized, municipality=m, status=Submission.Status.FINALIZED) for m in municipalities
    )
    criteria = list(Criterion.objects.filter(mechanism__methodology=finalized.methodology))
    Score.objects.bulk_create(
        Score(
            submission=s,
            criterion=c,
            round=Score.Round.FINAL,
            points=rng.choice([0, c.max_points, c.max_points // 2]),
            by=world.users["operator"],
        )
        for s in submissions[1:]
        for c in criteria
    )
    cache.clear()
    return finalized


def test_the_recomputed_results_are_those_of_scoring_py(national):
    written = results_compute(campaign=national)

    assert 60 <= written <= 63  # the three of conftest were computed already: rewritten only if their ranks moved
    assert _stored(national) == _expected(national)
    assert Result.objects.filter(campaign=national, total=0).exists()  # the one without a score
    assert len(set(Result.objects.filter(campaign=national).values_list("rank_country", flat=True))) < 63  # ties


def test_recomputing_unchanged_results_writes_nothing(national, django_assert_max_num_queries):
    results_compute(campaign=national)
    before = dict(Result.objects.filter(campaign=national).values_list("pk", "version"))

    with django_assert_max_num_queries(8) as captured:
        written = results_compute(campaign=national)

    assert written == 0
    assert dict(Result.objects.filter(campaign=national).values_list("pk", "version")) == before
    assert not [q for q in captured.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]


def test_a_changed_score_rewrites_only_the_results_that_changed(national, world):
    results_compute(campaign=national)
    before = dict(Result.objects.filter(campaign=national).values_list("submission__municipality__code", "version"))
    score = Score.objects.filter(
        submission__campaign=national, submission__municipality__code="elista", round=Score.Round.FINAL
    ).first()
    # Points moved from one criterion to another of another mechanism: the same total, other mechanisms.
    other = (
        Score.objects.filter(submission=score.submission, round=Score.Round.FINAL, points__lt=5)
        .exclude(criterion__mechanism=score.criterion.mechanism)
        .first()
    )
    Score.objects.filter(pk=score.pk).update(points=score.points - 1)
    Score.objects.filter(pk=other.pk).update(points=other.points + 1)

    written = results_compute(campaign=national)

    after = dict(Result.objects.filter(campaign=national).values_list("submission__municipality__code", "version"))
    assert written == 1 and after["elista"] == before["elista"] + 1
    assert {code for code in after if after[code] != before[code]} == {"elista"}
    assert _stored(national) == _expected(national)


def test_a_result_no_longer_finalized_goes_and_the_ranks_close_up(national):
    results_compute(campaign=national)
    Submission.objects.filter(campaign=national, municipality__code="kirov").update(status=Submission.Status.IN_REVIEW)

    results_compute(campaign=national)

    assert not Result.objects.filter(campaign=national, municipality__code="kirov").exists()
    assert _stored(national) == _expected(national)


def test_the_recomputation_takes_as_many_queries_for_many_municipalities(
    finalized, world, django_assert_max_num_queries
):
    Result.objects.all().delete()
    with django_assert_max_num_queries(20) as few:
        results_compute(campaign=finalized)
    municipalities = _national(world, 60, random.Random(3))
    Participation.objects.bulk_create(Participation(campaign=finalized, municipality=m) for m in municipalities)
    Submission.objects.bulk_create(
        Submission(campaign=finalized, municipality=m, status=Submission.Status.FINALIZED) for m in municipalities
    )
    Result.objects.all().delete()

    with django_assert_max_num_queries(len(few.captured_queries)):
        results_compute(campaign=finalized)

    assert Result.objects.filter(campaign=finalized).count() == 63
    assert Result.objects.filter(campaign=finalized, total=0).count() == 60
    assert set(Result.objects.filter(campaign=finalized, total=0).values_list("rank_country", flat=True)) == {4}
    assert Result.objects.get(campaign=finalized, municipality__code="kirov").share == Decimal("0.5063")

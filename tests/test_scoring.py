"""Pure calculations: no database."""

from decimal import Decimal

import pytest

from assessment import scoring
from assessment.scoring import DEFAULT_BANDS, Bands, competition_ranks, fraction, percent


@pytest.mark.parametrize(
    ("points", "level"),
    [
        (0, "not_formed"),
        (12, "not_formed"),
        (55, "not_formed"),  # 9.9 %
        (56, "separate_elements"),  # 10.09 %
        (136, "separate_elements"),  # Ики-Бурульский 2020
        (221, "separate_elements"),  # 39.8 %
        (222, "partially_formed"),  # exactly 40 %
        (249, "partially_formed"),  # Элиста 2020
        (416, "partially_formed"),
        (417, "formed"),
        (555, "formed"),
    ],
)
def test_levels_of_the_555_point_scale(points, level):
    assert DEFAULT_BANDS.level(points, 555) == level


def test_band_boundaries_are_exact_not_float():
    # 2/5 is exactly 40 %: floats would put it a hair under
    assert DEFAULT_BANDS.level(2, 5) == "partially_formed"
    assert fraction(1, 3) < Decimal("0.34")


def test_a_zero_maximum_is_the_lowest_level():
    assert DEFAULT_BANDS.level(0, 0) == "not_formed"


def test_next_threshold_names_the_points_missing():
    assert DEFAULT_BANDS.next_threshold(136, 555) == ("partially_formed", 86)  # 222 - 136
    assert DEFAULT_BANDS.next_threshold(555, 555) is None


def test_bands_need_a_start_at_zero():
    with pytest.raises(ValueError):
        Bands.of([("separate_elements", "0.10")])


def test_percent_rounds_half_up():
    assert percent(249, 555) == Decimal("44.9")
    assert percent(1, 8, places=1) == Decimal("12.5")


def test_competition_ranking_shares_ranks_and_skips():
    totals = [249, 136, 12, 8, 0, 0]

    assert competition_ranks(totals) == [1, 2, 3, 4, 5, 5]
    assert competition_ranks([10, 20, 20, 5]) == [3, 1, 1, 4]
    assert competition_ranks([]) == []


def test_weighted_kappa_perfect_chance_and_opposite():
    from assessment.scoring import weighted_kappa

    perfect = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    opposite = [(0, 4), (1, 3), (3, 1), (4, 0)]

    assert weighted_kappa(perfect, 5) == 1
    assert weighted_kappa(opposite, 5) < 0
    assert weighted_kappa([], 5) is None


def test_agreement_shows_a_coordinator_who_over_scores():
    from assessment.scoring import agreement

    pairs = [(5, 3, 5), (10, 8, 10), (2, 2, 5), (4, 4, 9), (0, 0, 10), (6, 6, 8)]

    stats = agreement(pairs)

    assert stats["n"] == 6
    assert stats["mae"] == 4 / 6
    assert stats["changed"] == 2 / 6
    assert stats["bias"] == 4 / 6  # positive: the coordinator scored higher
    assert 0 < stats["kappa"] < 1


def test_distribute_spreads_a_total_within_maxima():
    from assessment.scoring import CriterionSpec, distribute

    specs = [CriterionSpec(f"1.1.{i}", "1.1", m) for i, m in enumerate([5, 10, 5], start=1)]

    points = distribute(13, specs)

    assert sum(points.values()) == 13
    assert all(points[s.code] <= s.max_points for s in specs)


def test_gap_to_next_level_takes_the_fewest_criteria():
    specs = [
        scoring.CriterionSpec("1.1.1", "1.1", 5),
        scoring.CriterionSpec("1.1.2", "1.1", 10),
        scoring.CriterionSpec("1.2.1", "1.2", 10),
    ]
    points = {"1.1.1": 0, "1.1.2": 2, "1.2.1": 1}  # 3 of 25: not formed; 10 % is 3 points → already there

    gap = scoring.gap_to_next_level(points, specs)

    # 3/25 = 12 % is "separate elements"; 40 % needs 10 points: +7 from the criterion with most room first.
    assert gap.level == "partially_formed"
    assert gap.needed == 7
    assert gap.steps == (("1.2.1", 1, 8),)


def test_gap_spreads_over_several_criteria_and_stops_at_the_top():
    specs = [scoring.CriterionSpec(f"1.1.{i}", "1.1", 5) for i in range(1, 5)]

    gap = scoring.gap_to_next_level({"1.1.1": 5, "1.1.2": 5, "1.1.3": 2}, specs)
    top = scoring.gap_to_next_level({f"1.1.{i}": 5 for i in range(1, 5)}, specs)

    assert (gap.level, gap.needed) == ("formed", 3)  # 12/20 = 60 %; 75 % is 15 points
    assert gap.steps == (("1.1.4", 0, 3),)
    assert top is None


def test_gap_of_one_mechanism_looks_only_at_its_criteria():
    specs = [scoring.CriterionSpec("1.1.1", "1.1", 10), scoring.CriterionSpec("1.2.1", "1.2", 10)]

    gap = scoring.gap_to_next_level({}, specs, mechanism="1.2")

    assert (gap.level, gap.needed, gap.steps) == ("separate_elements", 1, (("1.2.1", 0, 1),))


def test_rank_among_others_is_a_competition_rank():
    assert scoring.rank_among(10, [12, 10, 8]) == 2
    assert scoring.rank_among(13, [12, 10]) == 1
    assert scoring.rank_among(0, [0, 0]) == 1


# --- points of one criterion: the one rule every writer and parser asks --------------------------------------


@pytest.mark.parametrize(("points", "valid"), [(0, True), (5, True), (10, True), (11, False), (-1, False)])
def test_points_are_whole_numbers_from_0_to_the_maximum(points, valid):
    assert scoring.points_valid(points, 10) is valid


@pytest.mark.parametrize("points", [True, False, 2.0, 2.5, "2", None, Decimal(2)])
def test_points_are_an_int_never_a_bool_a_float_or_a_text(points):
    assert not scoring.points_valid(points, 10)


@pytest.mark.parametrize(("text", "points"), [("0", 0), ("7", 7), (" 10 ", 10), ("007", 7)])
def test_points_typed_in_are_read(text, points):
    assert scoring.points_from_text(text, 10) == points


@pytest.mark.parametrize("text", ["", "  ", "11", "-1", "+5", "1.5", "1,5", "٣", "1_0", "abc", "1\x00", "9" * 30, None])
def test_points_typed_in_outside_0_to_max_or_not_digits_are_none(text):
    assert scoring.points_from_text(text, 10) is None


@pytest.mark.parametrize(
    ("points", "mean"), [([5], 5), ([2, 3], 3), ([1, 2], 2), ([0, 1], 1), ([4, 4], 4), ([2, 2, 3], 2), ([0, 0], 0)]
)
def test_the_experts_mean_is_rounded_half_up(points, mean):
    # Python's round() gives 2 for 2.5 (half to even); the final points give 3.
    assert scoring.experts_mean(points) == mean


def test_the_experts_mean_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        scoring.experts_mean([])


@pytest.mark.parametrize(
    ("a", "b", "maximum", "reconcile"),
    [
        (3, 5, 10, True),  # 2 points: the threshold in points
        (3, 4, 10, False),  # 1 point, 10 %: under both
        (0, 1, 4, True),  # 1 point of 4 is 25 %: the share
        (5, 3, 10, True),  # the order of the experts does not matter
        (2, 2, 10, False),
    ],
)
def test_two_experts_are_reconciled_from_the_threshold_in_points_or_share(a, b, maximum, reconcile):
    assert scoring.needs_reconciliation(a, b, maximum, 2, Decimal("0.25")) is reconcile

"""Pure calculations of points, shares, levels and ranks. No ORM here: these run in tests without a database
and in bulk over national data."""

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LEVELS = ("not_formed", "separate_elements", "partially_formed", "formed")


@dataclass(frozen=True)
class Bands:
    """Level bands ordered by the share of the maximum where each begins."""

    starts: tuple  # ((Decimal min_share, code), ...) ascending

    @classmethod
    def of(cls, pairs):
        """From (code, min_share) pairs in any order."""
        starts = tuple(sorted((Decimal(str(share)), code) for code, share in pairs))
        if not starts or starts[0][0] != 0:
            raise ValueError("the lowest level band must start at 0")
        return cls(starts)

    def level(self, points, max_points):
        """The band the share points / max_points falls in; a zero maximum is the lowest band."""
        return _level(self.starts, points, max_points)

    def next_threshold(self, points, max_points):
        """(code, points needed to reach the next band) or None at the top band."""
        share = fraction(points, max_points)
        for start, code in self.starts:
            if start > share:
                needed = _ceil(start * max_points)
                return code, needed - points
        return None


DEFAULT_BANDS = Bands.of(
    [
        ("not_formed", "0"),
        ("separate_elements", "0.10"),
        ("partially_formed", "0.40"),
        ("formed", "0.75"),
    ]
)


@functools.lru_cache(maxsize=65536)
def _level(starts, points, max_points):
    # Points and maxima are small integers: a national recompute asks the same few thousand pairs 26,400 times.
    share = fraction(points, max_points)
    found = starts[0][1]
    for start, code in starts:
        if share >= start:
            found = code
    return found


def fraction(points, max_points):
    """Exact share as a Decimal, for comparisons against band starts (no float rounding at 40 %)."""
    if not max_points:
        return Decimal(0)
    return Decimal(points) / Decimal(max_points)


def percent(points, max_points, places=1):
    """Share in per cent, rounded half up for display."""
    quantum = Decimal(1).scaleb(-places)
    return (fraction(points, max_points) * 100).quantize(quantum, rounding=ROUND_HALF_UP)


def _ceil(value):
    integral = int(value)
    return integral if integral == value else integral + 1


# --- points of one criterion ------------------------------------------------------------------------------------

# ASCII digits only, and no more than a database integer holds: int() would take "٣", "+5", "1_0" or twenty nines.
POINTS_TEXT = re.compile(r"[0-9]{1,9}")


def points_valid(points, max_points):
    """Whether `points` may be given to a criterion worth `max_points`: a whole number from 0 to the maximum.
    An int only: never a bool (True is 1 to Python), a float or a text; every writer of points asks this."""
    return isinstance(points, int) and not isinstance(points, bool) and 0 <= points <= max_points


def points_from_text(text, max_points):
    """Points typed in a form field: the int when the text (blanks around it aside) is a whole number from 0 to
    `max_points`, None for anything else, a blank included (the caller decides what a blank means)."""
    text = text.strip() if isinstance(text, str) else ""
    if not POINTS_TEXT.fullmatch(text):
        return None
    points = int(text)
    return points if points_valid(points, max_points) else None


def experts_mean(points):
    """The final points of a criterion from the experts' points (or the one pre-score): their mean, rounded
    half up, so that 2 and 3 give 3 (Python's round() would give 2: half to even)."""
    if not points:
        raise ValueError("no points to average")
    return int((Decimal(sum(points)) / len(points)).to_integral_value(rounding=ROUND_HALF_UP))


def needs_reconciliation(a, b, max_points, threshold_points, threshold_share):
    """Whether two experts' points on one criterion differ enough to be reconciled by hand: by the campaign's
    threshold in points or more, or by its share of the criterion's maximum or more."""
    gap = abs(a - b)
    return gap >= threshold_points or gap >= Decimal(str(threshold_share)) * max_points


def competition_ranks(totals):
    """Standard competition ranking ("1224"): equal totals share a rank, the next rank skips.

    `totals` is a sequence of numbers; returns ranks in the same order."""
    order = sorted(range(len(totals)), key=lambda i: totals[i], reverse=True)
    ranks = [0] * len(totals)
    previous, rank = None, 0
    for position, index in enumerate(order, start=1):
        if totals[index] != previous:
            rank, previous = position, totals[index]
        ranks[index] = rank
    return ranks


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    mechanism: str
    max_points: int


@dataclass(frozen=True)
class Summary:
    total: int
    max_total: int
    level: str
    mechanisms: dict  # code -> {"points", "max", "level"}

    @property
    def share(self):
        return fraction(self.total, self.max_total)


def summarize(points, specs, bands=DEFAULT_BANDS):
    """Totals and levels from {criterion code: points}; a criterion without points counts 0."""
    sums, maxima = {}, {}
    for spec in specs:
        sums[spec.mechanism] = sums.get(spec.mechanism, 0) + (points.get(spec.code) or 0)
        maxima[spec.mechanism] = maxima.get(spec.mechanism, 0) + spec.max_points
    return summarize_mechanisms(sums, maxima, bands)


def summarize_mechanisms(sums, maxima, bands=DEFAULT_BANDS):
    """Totals and levels from points already summed per mechanism ({code: points}, {code: maximum})."""
    mechanisms = {code: {"points": sums.get(code) or 0, "max": maximum} for code, maximum in maxima.items()}
    for entry in mechanisms.values():
        entry["level"] = bands.level(entry["points"], entry["max"])
    total = sum(e["points"] for e in mechanisms.values())
    max_total = sum(e["max"] for e in mechanisms.values())
    return Summary(total, max_total, bands.level(total, max_total), mechanisms)


def distribute(total, specs):
    """Points per criterion adding up to `total`, each within its maximum, spread in proportion to the
    maxima: used to build demo and synthetic data from a known total."""
    max_total = sum(s.max_points for s in specs)
    if not 0 <= total <= max_total:
        raise ValueError("total outside 0…max")
    points = {s.code: (s.max_points * total) // max_total for s in specs}
    left = total - sum(points.values())
    for spec in specs:
        if left == 0:
            break
        room = spec.max_points - points[spec.code]
        step = min(room, left)
        points[spec.code] += step
        left -= step
    return points


def weighted_kappa(pairs, categories):
    """Cohen's kappa with quadratic weights for ordinal ratings.

    `pairs` is a list of (a, b) ratings, each an integer in range(categories). 1 is perfect agreement,
    0 what chance alone would give; None when there is nothing to compare or no variance at all."""
    n = len(pairs)
    if n == 0 or categories < 2:
        return None
    observed = [[0] * categories for _ in range(categories)]
    for a, b in pairs:
        observed[a][b] += 1
    row = [sum(observed[i]) for i in range(categories)]
    col = [sum(observed[i][j] for i in range(categories)) for j in range(categories)]
    denominator_weight = (categories - 1) ** 2
    disagreement = expected = 0.0
    for i in range(categories):
        for j in range(categories):
            weight = (i - j) ** 2 / denominator_weight
            disagreement += weight * observed[i][j]
            expected += weight * row[i] * col[j] / n
    if expected == 0:
        return None
    return 1 - disagreement / expected


def agreement(pairs):
    """How an expert's scores compare with the coordinator's: pairs of (prescore, expert, max_points).

    Returns mean absolute difference, share of criteria changed, mean signed difference (positive: the
    coordinator scored higher than the expert, i.e. over-scored) and a quadratic-weighted kappa over the
    share of the maximum in five ordinal steps (so that criteria with different maxima compare)."""
    if not pairs:
        return {"n": 0, "mae": None, "changed": None, "bias": None, "kappa": None}
    n = len(pairs)
    diffs = [pre - exp for pre, exp, _max in pairs]

    def step(points, maximum):
        return min(4, int(4 * points / maximum + 0.5)) if maximum else 0

    kappa = weighted_kappa([(step(pre, m), step(exp, m)) for pre, exp, m in pairs], 5)
    return {
        "n": n,
        "mae": sum(abs(d) for d in diffs) / n,
        "changed": sum(1 for d in diffs if d) / n,
        "bias": sum(diffs) / n,
        "kappa": kappa,
    }


@dataclass(frozen=True)
class Gap:
    """What lifts a total to the next level band: the band, the points needed, and the fewest criteria
    that can give them, each as (code, points now, points to reach)."""

    level: str
    needed: int
    steps: tuple  # ((code, points, target), ...)


def gap_to_next_level(points, specs, bands=DEFAULT_BANDS, mechanism=None):
    """The smallest set of criteria whose improvement lifts the level (of one mechanism, or overall).

    Criteria with the most room are raised first: that reaches the threshold with the fewest criteria
    (an exchange argument: any set that reaches it can swap a criterion for one with more room). The last
    criterion is raised only as far as needed. None at the top band, or when the band is out of reach."""
    chosen = [s for s in specs if mechanism is None or s.mechanism == mechanism]
    total = sum(points.get(s.code) or 0 for s in chosen)
    max_total = sum(s.max_points for s in chosen)
    nxt = bands.next_threshold(total, max_total)
    if nxt is None:
        return None
    level, needed = nxt
    order = sorted(chosen, key=lambda s: (-(s.max_points - (points.get(s.code) or 0)), s.code))
    steps, left = [], needed
    for spec in order:
        if left <= 0:
            break
        now = points.get(spec.code) or 0
        room = spec.max_points - now
        if room <= 0:
            break
        add = min(room, left)
        steps.append((spec.code, now, now + add))
        left -= add
    if left > 0:
        return None
    return Gap(level, needed, tuple(steps))


def rank_among(total, others):
    """The competition rank `total` would take among the other totals (itself excluded)."""
    return 1 + sum(1 for t in others if t > total)

"""Campaign succession: which criterion of the previous campaign's methodology continues as which of this one's,
and what changed for each municipality from one campaign to the next.

A campaign may follow a previous one (Campaign.previous). Points are compared criterion by criterion: a criterion of
the previous methodology corresponds to the one the operator mapped it to (CriterionMapping), else to the one of the
same code, and it is comparable only when both are worth the same maximum (otherwise a change of points would be a
change of the scale). Where a criterion has no counterpart the comparison says so instead of inventing a number, and
when not every criterion is comparable, totals are compared on the comparable criteria only.

The calculations at the top are pure (no ORM: tested without a database); the functions at the bottom read what
they need in a fixed number of queries whatever the number of municipalities."""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from assessment.models import Criterion, CriterionMapping, Result, Score
from assessment.results import DONE
from assessment.scoring import LEVELS, fraction

SHARE_PLACES = Decimal("0.0001")

# Why a criterion of the previous methodology is not compared.
NO_COUNTERPART = "none"  # the operator's mapping says it has none
NOT_FOUND = "missing"  # no mapping, and no criterion of the same code in the later version
OTHER_MAXIMUM = "maximum"  # its counterpart is worth another maximum
REASONS = {
    NO_COUNTERPART: _("no counterpart in the later edition"),
    NOT_FOUND: _("no criterion of the same code in the later edition"),
    OTHER_MAXIMUM: _("its counterpart is worth another maximum"),
}


# --- pure: which criterion continues which -------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRef:
    """A criterion as the comparison needs it."""

    code: str
    max_points: int
    mechanism: str = ""
    component: int = 0


@dataclass(frozen=True)
class Correspondence:
    """Comparable pairs of criteria of two methodologies: {previous code: current code}, and why each other criterion
    of the previous one is not compared. Of one methodology with itself, every criterion is its own counterpart."""

    pairs: dict = field(default_factory=dict)
    unpaired: dict = field(default_factory=dict)  # previous code -> reason
    unpaired_targets: frozenset = frozenset()  # current codes no previous criterion is compared with
    maximum: int = 0  # what the compared criteria are worth together (the same on both sides)
    identical: bool = False

    @classmethod
    def identity(cls):
        return cls(identical=True)

    @property
    def complete(self):
        """Every criterion on both sides is compared: the totals themselves compare."""
        return self.identical or not (self.unpaired or self.unpaired_targets)

    def source_of(self, code):
        """The previous criterion compared with the current criterion `code`, or None."""
        if self.identical:
            return code
        return self._backward.get(code)

    @cached_property
    def _backward(self):
        return {target: source for source, target in self.pairs.items()}

    def fingerprint(self):
        """Changes whenever the pairs do: part of the key of what is cached about a comparison."""
        if self.identical:
            return "same"
        text = ";".join(f"{s}>{t}" for s, t in sorted(self.pairs.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def correspond(sources, targets, mapped=None):
    """The Correspondence of the criteria `sources` (of the earlier methodology) with `targets` (of the later one):
    `mapped` is the operator's mapping, {source code: target code, or None for "no counterpart"}; a source without
    a row continues as the target of the same code, unless a row gives that target to another source. A pair of
    different maxima is not comparable."""
    mapped = mapped or {}
    by_code = {t.code: t for t in targets}
    claimed = {code for code in mapped.values() if code in by_code}
    pairs, unpaired, taken = {}, {}, set()
    for source in sources:
        if source.code in mapped and mapped[source.code] is None:
            unpaired[source.code] = NO_COUNTERPART
            continue
        if mapped.get(source.code) in by_code:
            target = by_code[mapped[source.code]]
        else:
            target = by_code.get(source.code)
            if target is None or target.code in claimed:
                unpaired[source.code] = NOT_FOUND
                continue
        if target.code in taken:  # two rows to one target: the database refuses them, never compare both
            unpaired[source.code] = NOT_FOUND
            continue
        taken.add(target.code)
        if target.max_points != source.max_points:
            unpaired[source.code] = OTHER_MAXIMUM
            continue
        pairs[source.code] = target.code
    maximum = sum(by_code[code].max_points for code in pairs.values())
    return Correspondence(pairs, unpaired, frozenset(by_code) - set(pairs.values()), maximum)


# --- pure: points side by side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """The points of a group of current criteria that have a comparable counterpart, beside the previous points of
    their counterparts. `before` is None when no criterion of the group has one."""

    before: int | None
    after: int
    maximum: int
    criteria: int  # criteria compared
    without: int  # criteria of the group with no counterpart

    @property
    def delta(self):
        return None if self.before is None else self.after - self.before


def compare(before_points, after_points, correspondence, specs, group=None):
    """{group: Compared} over the current criteria `specs` (CriterionRef), grouped by `group(spec)` (one group, None,
    by default): points are {code: points} of the previous and of the current campaign."""
    sums = {}
    for spec in specs:
        key = group(spec) if group else None
        entry = sums.setdefault(key, [0, 0, 0, 0, 0])
        source = correspondence.source_of(spec.code)
        if source is None:
            entry[4] += 1
            continue
        entry[0] += before_points.get(source) or 0
        entry[1] += after_points.get(spec.code) or 0
        entry[2] += spec.max_points
        entry[3] += 1
    return {key: Compared(b if n else None, a, m, n, w) for key, (b, a, m, n, w) in sums.items()}


@dataclass(frozen=True)
class CriterionChange:
    spec: CriterionRef
    source: str | None  # the previous criterion's code; None: no counterpart
    before: int | None
    after: int | None


def criterion_changes(before_points, after_points, correspondence, specs):
    """Each current criterion with the previous points of its counterpart, or no counterpart."""
    rows = []
    for spec in specs:
        source = correspondence.source_of(spec.code)
        before = (before_points.get(source) or 0) if source is not None else None
        rows.append(CriterionChange(spec, source, before, after_points.get(spec.code)))
    return rows


# --- pure: a municipality's standing and its change -----------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a municipality stood in one campaign (its Result)."""

    total: int
    max_total: int
    share: Decimal
    level: str
    rank_country: int | None = None
    rank_region: int | None = None

    @classmethod
    def of(cls, result):
        return cls(result.total, result.max_total, result.share, result.level, result.rank_country, result.rank_region)

    def rank(self, regional=False):
        return self.rank_region if regional else self.rank_country


def _level_index(code):
    return LEVELS.index(code) if code in LEVELS else None


@dataclass(frozen=True)
class Change:
    """From the previous campaign to this one: points and share (on comparable criteria only when
    `comparable_only`), places gained in the ranking (positive: up), the level from and to."""

    total: int
    share: Decimal
    rank: int | None
    level_from: str
    level_to: str
    comparable_only: bool = False

    @property
    def levels(self):
        """Levels climbed (negative: fallen)."""
        a, b = _level_index(self.level_from), _level_index(self.level_to)
        return 0 if a is None or b is None else b - a

    def as_dict(self):
        """As the API and the JSON export give it (a public interface)."""
        return {
            "total": self.total,
            "share": float(self.share),
            "rank": self.rank,
            "level_from": self.level_from,
            "level_to": self.level_to,
            "comparable_only": self.comparable_only,
        }


def change_between(before, after, *, regional=False, compared=None):
    """The Change from Standing `before` to `after`. With `compared` (a Compared of the whole methodology, when not
    every criterion is comparable) the points and the share are those of the comparable criteria; None when there is
    none at all (nothing to compare, not a zero)."""
    if compared is not None:
        if compared.before is None:
            return None
        total = compared.after - compared.before
        share = fraction(compared.after, compared.maximum) - fraction(compared.before, compared.maximum)
    else:
        total = after.total - before.total
        share = Decimal(after.share) - Decimal(before.share)
    was, now = before.rank(regional), after.rank(regional)
    return Change(
        total,
        share.quantize(SHARE_PLACES),
        was - now if was is not None and now is not None else None,
        before.level,
        after.level,
        compared is not None,
    )


CHANGE_FILTERS = {
    "improved": lambda change: change.total > 0,
    "worsened": lambda change: change.total < 0,
    "level_up": lambda change: change.levels > 0,
    "level_down": lambda change: change.levels < 0,
}
CHANGE_LABELS = {
    "improved": _("improved"),
    "worsened": _("worsened"),
    "level_up": _("moved up a level"),
    "level_down": _("moved down a level"),
}


def movers(changes, limit=10):
    """(the `limit` largest gains, the `limit` largest losses) of {key: Change}: keys, largest first."""
    known = [(key, change) for key, change in changes.items() if change is not None]
    up = sorted((kc for kc in known if kc[1].total > 0), key=lambda kc: (-kc[1].total, -kc[1].share))
    down = sorted((kc for kc in known if kc[1].total < 0), key=lambda kc: (kc[1].total, kc[1].share))
    return [key for key, _change in up[:limit]], [key for key, _change in down[:limit]]


# --- the campaign a campaign follows ----------------------------------------------------------------------------


def previous_errors(campaign, previous, *, year=None):
    """Why `previous` cannot be the campaign `campaign` follows (of year `year`, its own by default): only an
    earlier campaign, never itself, and never one that (through others) follows it. Messages; empty when fine."""
    if previous is None:
        return []
    year = year if year is not None else campaign.year
    if campaign.pk is not None and previous.pk == campaign.pk:
        return [_("A campaign cannot follow itself.")]
    errors = []
    if year is not None and previous.year >= year:
        errors.append(
            _("A campaign follows an earlier one: «%(title)s» is of %(previous)s, this one of %(year)s.")
            % {"title": previous.title, "previous": previous.year, "year": year}
        )
    seen, step = set(), previous
    while step is not None and step.pk not in seen and campaign.pk is not None:
        if step.previous_id == campaign.pk:
            errors.append(
                _("«%(title)s» already follows this campaign: two campaigns cannot follow each other.")
                % {"title": previous.title}
            )
            break
        seen.add(step.pk)
        step = step.previous
    return errors


# --- the operator's mapping of criteria ---------------------------------------------------------------------------


def criterion_label(criterion):
    """A criterion named with its methodology, so that the two versions' «1.1.1» are told apart."""
    methodology = criterion.mechanism.methodology
    return f"{methodology.code} (v{methodology.version}) · {criterion.code} {criterion.component.title}"


def mapping_errors(source, target, *, pk=None):
    """Why `source` cannot be mapped to `target` (None: no counterpart) by the mapping row `pk` (None: a new row):
    {field: message}. Two criteria of two different versions, the target's the later one, of the same maximum (points
    of different maxima do not compare: the totals would not add up), and one source per target."""
    if source is None:
        return {}
    errors = {}
    if CriterionMapping.objects.filter(source=source).exclude(pk=pk).exists():
        errors["source"] = _("«%(source)s» is mapped already: change that mapping instead of adding another.") % {
            "source": criterion_label(source)
        }
    if target is None:
        return errors
    earlier, later = source.mechanism.methodology, target.mechanism.methodology
    if earlier.pk == later.pk:
        errors["target"] = _(
            "Both criteria belong to «%(methodology)s»: a mapping links a criterion of an earlier version of the "
            "methodology to one of a later version."
        ) % {"methodology": earlier.title}
        return errors
    if later.version <= earlier.version:
        errors["target"] = _(
            "«%(later)s» (version %(v2)s) is not later than «%(earlier)s» (version %(v1)s): map a criterion of the "
            "earlier version to one of the later."
        ) % {"later": later.title, "v2": later.version, "earlier": earlier.title, "v1": earlier.version}
        return errors
    if source.max_points != target.max_points:
        errors["target"] = _(
            "«%(source)s» is worth %(a)s points and «%(target)s» %(b)s: points of different maxima cannot be compared "
            "(the totals would not add up). Leave the target empty: no counterpart."
        ) % {"source": source.code, "a": source.max_points, "target": target.code, "b": target.max_points}
        return errors
    other = CriterionMapping.objects.filter(target=target).exclude(pk=pk).select_related("source").first()
    if other is not None:
        errors["target"] = _(
            "«%(target)s» already continues «%(other)s»: two criteria cannot be mapped to one. Change that mapping "
            "first."
        ) % {"target": criterion_label(target), "other": other.source.code}
    return errors


# --- reading: the succession of a campaign ------------------------------------------------------------------------


def _refs(methodology_id):
    return [
        CriterionRef(code, max_points, mechanism, component)
        for code, max_points, mechanism, component in Criterion.objects.filter(mechanism__methodology_id=methodology_id)
        .order_by("mechanism__order", "component__order")
        .values_list("code", "max_points", "mechanism__code", "component__order")
    ]


def correspondence_between(previous_methodology_id, methodology_id):
    """The Correspondence of two methodologies: three queries (none for one methodology with itself)."""
    if previous_methodology_id == methodology_id:
        return Correspondence.identity()
    mapped = dict(
        CriterionMapping.objects.filter(source__mechanism__methodology_id=previous_methodology_id)
        .filter(Q(target__isnull=True) | Q(target__mechanism__methodology_id=methodology_id))
        .values_list("source__code", "target__code")
    )
    return correspond(_refs(previous_methodology_id), _refs(methodology_id), mapped)


@dataclass
class Succession:
    """A campaign, the campaign it follows and how their criteria correspond."""

    campaign: object
    previous: object
    correspondence: Correspondence

    @property
    def same_methodology(self):
        return self.campaign.methodology_id == self.previous.methodology_id

    @property
    def comparable_only(self):
        """Totals are compared on the comparable criteria only."""
        return not self.correspondence.complete

    @property
    def compared_criteria(self):
        return len(self.correspondence.pairs)


def succession_of(campaign, access=None):
    """The Succession of the campaign, or None when it follows no campaign or (with `access`) one whose results the
    viewer may not see: the previous campaign's figures are shown to whoever may see them, never to anyone else."""
    previous = campaign.previous
    if previous is None or (access is not None and not access.may_see_results(previous)):
        return None
    return Succession(campaign, previous, correspondence_between(previous.methodology_id, campaign.methodology_id))


# Filtering by municipality beyond this many is slower than reading the campaign's every Result.
IN_LIMIT = 500


STANDING_FIELDS = ("municipality_id", "total", "max_total", "share", "level", "rank_country", "rank_region")


def standings_of(results):
    """{municipality id: Standing} of a queryset of Results: one query."""
    return {row[0]: Standing(*row[1:]) for row in results.values_list(*STANDING_FIELDS)}


def standings(campaign, municipality_ids=None):
    """{municipality id: Standing} of the campaign's results (of `municipality_ids` only, when given): one query."""
    rows = Result.objects.filter(campaign=campaign)
    if municipality_ids is not None and len(municipality_ids) <= IN_LIMIT:
        rows = rows.filter(municipality_id__in=municipality_ids)
    return standings_of(rows)


def final_sums(campaign, codes, municipality_ids=None):
    """{municipality id: final points on the criteria `codes`} of the campaign's finalized submissions: one query."""
    scores = Score.objects.filter(
        submission__campaign=campaign,
        submission__status__in=DONE,
        round=Score.Round.FINAL,
        is_current=True,
        criterion__mechanism__methodology_id=campaign.methodology_id,
        criterion__code__in=list(codes),
    )
    if municipality_ids is not None and len(municipality_ids) <= IN_LIMIT:
        scores = scores.filter(submission__municipality_id__in=municipality_ids)
    return dict(
        scores.values_list("submission__municipality_id")
        .annotate(points=Sum("points"))
        .values_list("submission__municipality_id", "points")
    )


def changes(succession, current, *, regional=False):
    """{municipality id: (previous Standing, Change or None)} of the municipalities of `current` ({id: Standing})
    that took part in the previous campaign. One query; three when totals compare on comparable criteria only."""
    ids = list(current)
    before = standings(succession.previous, ids)
    corr = succession.correspondence
    sums_before = sums_after = None
    if succession.comparable_only:
        sums_before = final_sums(succession.previous, corr.pairs.keys(), ids)
        sums_after = final_sums(succession.campaign, corr.pairs.values(), ids)
    found = {}
    for municipality_id, after in current.items():
        was = before.get(municipality_id)
        if was is None:
            continue
        compared = None
        if sums_before is not None:
            n = len(corr.pairs)
            compared = Compared(
                sums_before.get(municipality_id, 0) if n else None,
                sums_after.get(municipality_id, 0),
                corr.maximum,
                n,
                len(corr.unpaired_targets),
            )
        found[municipality_id] = (was, change_between(was, after, regional=regional, compared=compared))
    return found


def previous_points(succession, municipality_id):
    """{criterion code of the previous methodology: final points} of one municipality in the previous campaign (empty
    when it was not finalized there): one query."""
    return dict(
        Score.objects.filter(
            submission__campaign=succession.previous,
            submission__municipality_id=municipality_id,
            submission__status__in=DONE,
            round=Score.Round.FINAL,
            is_current=True,
        ).values_list("criterion__code", "points")
    )


def refs_of(criteria):
    """Criterion rows (with their mechanism and component loaded) as CriterionRef."""
    return [CriterionRef(c.code, c.max_points, c.mechanism.code, c.component.order) for c in criteria]

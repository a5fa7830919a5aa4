"""The municipal scorecard: points per mechanism, levels, every point explained, strongest and weakest
components of the management cycle, survey highlights, earlier campaigns, the gap to the next level,
targeted recommendations, and the what-if calculation (nothing written)."""

from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from assessment import dynamics, scoring
from assessment.measures import weakest_criteria
from assessment.models import Result, Submission
from assessment.results import current_points
from reports import charts
from reports.results import (
    EVERY_SIGNED_IN,
    component_strengths,
    criteria_of,
    history_of,
    level_labels,
    other_totals,
)
from surveys.stats import survey_evidence

RECOMMENDATIONS = 8


@dataclass
class Card:
    campaign: object
    municipality: object
    submission: object
    result: object
    labels: dict
    # Whose eyes the figures of other campaigns are for (municipalities.access.Access): the previous campaign
    # and the trend show only campaigns whose results they may see. None: published results only (a report).
    viewer: object = None

    @property
    def specs(self):
        return [scoring.CriterionSpec(c.code, c.mechanism.code, c.max_points) for c in self.criteria]

    # The criteria and points are read when a figure is computed: a page whose figures are cached needs neither.
    @cached_property
    def criteria(self):
        return criteria_of(self.campaign)

    @cached_property
    def points(self):
        """{criterion code: final points}; empty before the result exists."""
        if self.result is None:
            return {}
        return current_points([self.submission.pk], "final").get(self.submission.pk, {})

    @cached_property
    def succession(self):
        """The campaign this one follows, as the viewer may see it (dynamics.Succession), or None."""
        return dynamics.succession_of(self.campaign, self.viewer or EVERY_SIGNED_IN)

    @cached_property
    def history(self):
        """The municipality's results in every campaign the viewer may see, oldest first (this one included)."""
        return history_of(self.municipality, self.campaign, self.viewer)


def card_for(campaign, municipality, viewer=None):
    # One row each (unique keys): by primary key, not the default order's joins.
    submission = Submission.objects.filter(campaign=campaign, municipality=municipality).order_by("pk").first()
    result = Result.objects.filter(submission=submission).order_by("pk").first() if submission else None
    return Card(campaign, municipality, submission, result, level_labels(campaign), viewer)


def comparison(card):
    """The card beside the previous campaign: the previous standing, the change, and the points compared per
    mechanism, per component of the management cycle and per criterion (dynamics.compare). None without a previous
    campaign the viewer may see, before this result is final, or when the municipality was not in it."""
    succession = card.succession
    if succession is None or card.result is None:
        return None
    municipality_id = card.municipality.pk
    before = dynamics.standings(succession.previous, [municipality_id]).get(municipality_id)
    if before is None:
        return None
    points = dynamics.previous_points(succession, municipality_id)
    refs = dynamics.refs_of(card.criteria)
    corr = succession.correspondence
    compared = dynamics.compare(points, card.points, corr, refs)[None]
    change = dynamics.change_between(
        before, dynamics.Standing.of(card.result), compared=compared if succession.comparable_only else None
    )
    components = {c.component.order: c.component for c in card.criteria}
    by_component = dynamics.compare(points, card.points, corr, refs, group=lambda s: s.component)
    return {
        "succession": succession,
        "previous": before,
        "previous_label": card.labels.get(before.level, before.level),
        "change": change,
        "compared": compared,
        "mechanisms": dynamics.compare(points, card.points, corr, refs, group=lambda s: s.mechanism),
        "components": [(components[order], by_component[order]) for order in sorted(by_component)],
        "criteria": {row.spec.code: row for row in dynamics.criterion_changes(points, card.points, corr, refs)},
        "unpaired": [(code, dynamics.REASONS[reason]) for code, reason in sorted(corr.unpaired.items())],
    }


def trend(card, **layout):
    """The municipality's share in every campaign the viewer may see, oldest first: the trend chart and its table."""
    return charts.trend(
        [
            (
                str(r.campaign.year),
                r.campaign.title,
                r.total,
                r.max_total,
                r.share,
                r.level,
                card.labels.get(r.level, r.level),
                r.campaign_id == card.campaign.pk,
            )
            for r in card.history
        ],
        **layout,
    )


def mechanism_rows(card):
    """Each mechanism with its points, maximum, level and the gap to its next level."""
    bands = card.campaign.methodology.bands
    rows, seen = [], {}
    for c in card.criteria:
        seen.setdefault(c.mechanism.code, c.mechanism)
    for code, mechanism in seen.items():
        entry = (card.result.mechanisms if card.result else {}).get(
            code, {"points": 0, "max": 0, "level": "not_formed"}
        )
        gap = scoring.gap_to_next_level(card.points, card.specs, bands, mechanism=code) if card.result else None
        rows.append(
            {
                "mechanism": mechanism,
                "points": entry["points"],
                "max": entry["max"],
                "share": entry["points"] / entry["max"] if entry["max"] else 0,
                "level": entry["level"],
                "level_label": card.labels.get(entry["level"], entry["level"]),
                "gap": _gap_rows(card, gap),
                "gap_level": card.labels.get(gap.level) if gap else None,
                "gap_needed": gap.needed if gap else None,
            }
        )
    return rows


def _gap_rows(card, gap):
    if gap is None:
        return []
    by_code = {c.code: c for c in card.criteria}
    return [
        {"criterion": by_code[code], "now": now, "target": target, "add": target - now}
        for code, now, target in gap.steps
    ]


def overall_gap(card):
    if not card.result:
        return None
    gap = scoring.gap_to_next_level(card.points, card.specs, card.campaign.methodology.bands)
    if gap is None:
        return None
    steps = _gap_rows(card, gap)
    return {
        "level": gap.level,
        "label": card.labels.get(gap.level),
        "needed": gap.needed,
        "steps": steps,
        "first": steps[:6],
        "more": steps[6:],
    }


def chart(rows, **layout):
    """The points per mechanism; with a previous campaign, its points marked on each bar where every criterion of
    the mechanism has a counterpart (otherwise the mark would stand on another scale)."""
    return charts.bars(
        [
            (
                f"{r['mechanism'].code} {r['mechanism'].short_title}",
                r["points"],
                r["max"],
                r["level"],
                r["compared"].before if r.get("compared") and not r["compared"].without else None,
            )
            for r in rows
        ],
        **layout,
    )


def recommendations(card, limit=RECOMMENDATIONS):
    """Targeted recommendations from the weakest criteria (the rule is measures.weakest_criteria, which the proposed
    plan of measures follows too)."""
    weak = weakest_criteria(card.criteria, card.points, limit)
    return [{"criterion": c, "points": card.points.get(c.code) or 0} for c in weak]


def survey_highlights(card):
    """The mechanisms the schools see most and least at work (only where k ≥ 3 allows a figure)."""
    evidence = survey_evidence(card.campaign, [card.municipality])[card.municipality.pk]
    shares = [(m.mechanism, m.positive_share) for m in evidence.mechanisms if m.positive_share is not None]
    shares.sort(key=lambda x: -x[1])
    return {
        "responses": evidence.response_count,
        "best": shares[:2],
        "worst": list(reversed(shares[-2:])) if len(shares) > 2 else [],
    }


def scorecard(card):
    rows = mechanism_rows(card)
    strengths = component_strengths(card.criteria, card.points) if card.result else []
    compared = comparison(card)
    for row in rows:
        row["compared"] = compared["mechanisms"].get(row["mechanism"].code) if compared else None
    return {
        "card": card,
        "result": card.result,
        "mechanisms": rows,
        "chart": chart(rows),
        "phone_chart": chart(rows, **charts.PHONE),
        "gap": overall_gap(card),
        "strongest": strengths[:3],
        "weakest": list(reversed(strengths[-3:])) if len(strengths) > 3 else [],
        "recommendations": recommendations(card) if card.result else [],
        "survey": survey_highlights(card),
        "history": card.history,
        "trend": trend(card),
        "phone_trend": trend(card, width=charts.PHONE_WIDTH),
        "comparison": compared,
        "level_label": card.labels.get(card.result.level) if card.result else None,
    }


class WhatIfError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def what_if(card, data):
    """The total, level and ranks the municipality would have with the points in `data` (criterion code →
    text, as a form sends them; missing codes keep their current points). Nothing is written."""
    points, errors = dict(card.points), {}
    for c in card.criteria:
        raw = data.get(f"p-{c.code}")
        if raw in (None, ""):
            continue
        value = scoring.points_from_text(str(raw), c.max_points)
        if value is None:
            errors[c.code] = _("%(code)s: enter a whole number from 0 to %(max)s.") % {
                "code": c.code,
                "max": c.max_points,
            }
            continue
        points[c.code] = value
    if errors:
        raise WhatIfError(errors)
    bands = card.campaign.methodology.bands
    summary = scoring.summarize(points, card.specs, bands)
    national = other_totals(card.campaign, card.municipality)
    regional = other_totals(card.campaign, card.municipality, region_id=card.municipality.region_id)
    changed = {
        c.code: (card.points.get(c.code) or 0, points[c.code])
        for c in card.criteria
        if points.get(c.code, 0) != (card.points.get(c.code) or 0)
    }
    return {
        "points": points,
        "total": summary.total,
        "max_total": summary.max_total,
        "share": summary.share,
        "level": summary.level,
        "level_label": card.labels.get(summary.level, summary.level),
        "rank_country": scoring.rank_among(summary.total, national),
        "rank_region": scoring.rank_among(summary.total, regional),
        "mechanisms": summary.mechanisms,
        "changed": changed,
        "others_country": sorted(national, reverse=True),
        "others_region": sorted(regional, reverse=True),
    }

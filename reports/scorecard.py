"""The municipal scorecard: points per mechanism, levels, every point explained, strongest and weakest
components of the management cycle, survey highlights, earlier campaigns, the gap to the next level,
targeted recommendations, and the what-if calculation (nothing written)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from assessment import review, scoring
from assessment.models import Result, Submission
from reports import charts
from reports.results import component_strengths, criteria_of, history_of, level_labels, other_totals
from surveys.stats import survey_evidence

RECOMMENDATIONS = 8


@dataclass
class Card:
    campaign: object
    municipality: object
    submission: object
    result: object
    criteria: list
    points: dict
    labels: dict

    @property
    def specs(self):
        return [scoring.CriterionSpec(c.code, c.mechanism.code, c.max_points) for c in self.criteria]


def card_for(campaign, municipality):
    submission = Submission.objects.filter(campaign=campaign, municipality=municipality).first()
    result = Result.objects.filter(submission=submission).first() if submission else None
    points = review.current_points([submission.pk], "final").get(submission.pk, {}) if result else {}
    return Card(campaign, municipality, submission, result, criteria_of(campaign), points, level_labels(campaign))


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


def chart(rows):
    return charts.bars(
        [(f"{r['mechanism'].code} {r['mechanism'].short_title}", r["points"], r["max"], r["level"]) for r in rows]
    )


def recommendations(card, limit=RECOMMENDATIONS):
    """Targeted recommendations from the weakest criteria (lowest share of their maximum first, larger
    maxima first among equals: they move the total most)."""
    weak = sorted(
        (c for c in card.criteria if c.recommendation and (card.points.get(c.code) or 0) < c.max_points),
        key=lambda c: ((card.points.get(c.code) or 0) / c.max_points, -c.max_points, c.code),
    )
    return [{"criterion": c, "points": card.points.get(c.code) or 0} for c in weak[:limit]]


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
    return {
        "card": card,
        "result": card.result,
        "mechanisms": rows,
        "chart": chart(rows),
        "gap": overall_gap(card),
        "strongest": strengths[:3],
        "weakest": list(reversed(strengths[-3:])) if len(strengths) > 3 else [],
        "recommendations": recommendations(card) if card.result else [],
        "survey": survey_highlights(card),
        "history": history_of(card.municipality, card.campaign),
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
        try:
            value = int(str(raw).strip())
        except ValueError:
            errors[c.code] = _("%(code)s: enter a whole number from 0 to %(max)s.") % {
                "code": c.code,
                "max": c.max_points,
            }
            continue
        if not 0 <= value <= c.max_points:
            errors[c.code] = _("%(code)s: the points must be from 0 to %(max)s.") % {
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

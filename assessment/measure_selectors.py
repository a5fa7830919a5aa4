"""What the pages of plans of measures show, read in a fixed number of queries whatever the number of plans: a plan
with its measures, their progress and evidence; the effect of the measures once the next campaign is final; the
region's and the country's plans; the measures beside the criteria of the next campaign's form; the steps of the
home page. The rules and the writes are in assessment/measures.py.

The effect: each criterion a measure addressed, its final points in the plan's campaign beside those of its
counterpart in the next campaign (the criteria of two editions of the methodology correspond as
assessment/dynamics.py says), and a summary over the criteria of the measures marked done. A change of points after
a measure is no proof that the measure caused it, and the pages say so."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Prefetch, Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assessment import dynamics
from assessment.measures import (
    followers,
    lock_reason,
    next_campaign,
    next_campaigns,
    overdue_measures,
    plan_criteria,
    plan_proposal,
)
from assessment.models import Criterion, Measure, MeasurePlan, MeasureProgress, Result, Score
from assessment.results import DONE
from municipalities.home import Step
from municipalities.models import Municipality

CAVEAT = gettext_lazy(
    "A change of points after a measure is no proof that the measure caused it: other things change too, and the "
    "experts of the two campaigns are not the same."
)


# --- the effect ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionEffect:
    """One criterion a measure addressed: its final points in the plan's campaign (`before`) and those of its
    counterpart in the next campaign (`after`; None, with `why`, when it has none)."""

    code: str
    max_points: int
    before: int
    after: int | None
    counterpart: str | None
    why: str = ""

    @property
    def delta(self):
        return None if self.after is None else self.after - self.before


@dataclass
class EffectSummary:
    """Over the criteria of the measures marked done (each criterion of a municipality once): how many were compared,
    how many gained points and by how much on average, how many did not, how many have no counterpart."""

    criteria: int = 0
    compared: int = 0
    gained: int = 0
    gain: int = 0  # the points gained, summed over the criteria that gained
    municipalities: int = 0

    @classmethod
    def of(cls, effects):
        summary = cls(criteria=len(effects), municipalities=1 if effects else 0)
        for effect in effects:
            if effect.delta is None:
                continue
            summary.compared += 1
            if effect.delta > 0:
                summary.gained += 1
                summary.gain += effect.delta
        return summary

    def __add__(self, other):
        return EffectSummary(
            self.criteria + other.criteria,
            self.compared + other.compared,
            self.gained + other.gained,
            self.gain + other.gain,
            self.municipalities + other.municipalities,
        )

    @property
    def not_gained(self):
        return self.compared - self.gained

    @property
    def not_comparable(self):
        return self.criteria - self.compared

    @property
    def mean_gain(self):
        if not self.gained:
            return None
        return (Decimal(self.gain) / self.gained).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def sentence(self):
        """«Measures were done on 14 criteria; 11 of them gained points, on average +2.1; 3 did not.»"""
        text = self.clause()
        return text[:1].upper() + text[1:] + "."

    def clause(self):
        """The sentence as a clause, after «In 6 municipalities:» (no capital, no full stop)."""
        if not self.criteria:
            return _("no measure is marked done yet: there is nothing to compare")
        parts = [
            ngettext("measures were done on %(n)s criterion", "measures were done on %(n)s criteria", self.criteria)
            % {"n": self.criteria}
        ]
        if self.gained:
            parts.append(
                ngettext(
                    "%(n)s of them gained points, on average %(mean)s",
                    "%(n)s of them gained points, on average %(mean)s",
                    self.gained,
                )
                % {"n": self.gained, "mean": "+" + formats.number_format(self.mean_gain, 1)}
            )
        elif self.compared:
            parts.append(_("none of them gained points"))
        if self.gained and self.not_gained:
            parts.append(_("%(n)s did not") % {"n": self.not_gained})
        if self.not_comparable:
            parts.append(
                ngettext(
                    "%(n)s has no counterpart in the next campaign",
                    "%(n)s have no counterpart in the next campaign",
                    self.not_comparable,
                )
                % {"n": self.not_comparable}
            )
        return "; ".join(parts)


def correspondence(campaign, following):
    """How the criteria of a plan's campaign continue in its next campaign: the one call to the mapping between
    campaigns (assessment/dynamics.py)."""
    return dynamics.correspondence_between(campaign.methodology_id, following.methodology_id)


def counterpart(corr, code):
    """(the code of the criterion's counterpart in the next campaign or None, why there is none)."""
    if corr.identical:
        return code, ""
    target = corr.pairs.get(code)
    if target is not None:
        return target, ""
    return None, str(dynamics.REASONS.get(corr.unpaired.get(code, dynamics.NOT_FOUND), ""))


def final_points(campaign, municipality_ids, codes):
    """{municipality id: {criterion code: final points}} of the campaign's final results: one query."""
    points = {}
    rows = Score.objects.filter(
        submission__campaign=campaign,
        submission__status__in=DONE,
        submission__municipality_id__in=list(municipality_ids),
        round=Score.Round.FINAL,
        is_current=True,
        criterion__mechanism__methodology_id=campaign.methodology_id,
        criterion__code__in=list(codes),
    ).values_list("submission__municipality_id", "criterion__code", "points")
    for municipality_id, code, value in rows:
        points.setdefault(municipality_id, {})[code] = value
    return points


@dataclass
class Measured:
    """The effect of one plan: the campaign that measured it and {measure pk: [CriterionEffect]}."""

    campaign: object
    by_measure: dict


def _effects(plans, measures, following, access):
    """{plan pk: Measured} of the plans whose next campaign has a final result for the municipality, results the
    viewer may see. A fixed number of queries per pair of campaigns (one pair in practice), none per plan."""
    groups = {}
    for plan in plans:
        after = following.get(plan.pk)
        if after is not None and access.may_see_results(after):
            groups.setdefault((plan.campaign, after), []).append(plan)
    found = {}
    for (campaign, after), group in groups.items():
        measured = set(
            Result.objects.filter(campaign=after, municipality_id__in=[p.municipality_id for p in group]).values_list(
                "municipality_id", flat=True
            )
        )
        group = [p for p in group if p.municipality_id in measured]
        if not group:
            continue
        corr = correspondence(campaign, after)
        codes = {c.code for p in group for m in measures.get(p.pk, []) for c in m.criteria_list}
        targets = {counterpart(corr, code)[0] for code in codes} - {None}
        before_points = final_points(campaign, measured, codes)
        after_points = final_points(after, measured, targets)
        for plan in group:
            was, now = before_points.get(plan.municipality_id, {}), after_points.get(plan.municipality_id, {})
            by_measure = {}
            for m in measures.get(plan.pk, []):
                by_measure[m.pk] = []
                for c in m.criteria_list:
                    target, why = counterpart(corr, c.code)
                    after_value = (now.get(target) or 0) if target else None
                    by_measure[m.pk].append(
                        CriterionEffect(c.code, c.max_points, was.get(c.code) or 0, after_value, target, why)
                    )
            found[plan.pk] = Measured(after, by_measure)
    return found


# --- plans with their measures ----------------------------------------------------------------------------------


@dataclass
class PlanRow:
    plan: object
    measures: list  # live Measure rows, each with criteria_list, reports, links, files, overdue, effects
    following: object = None  # the next campaign
    locked: str | None = None
    measured: object = None  # Measured, once the next campaign's result is final
    summary: EffectSummary | None = None
    counts: dict = field(default_factory=dict)  # {measure status: n}

    @property
    def overdue(self):
        return sum(1 for m in self.measures if m.overdue)


def _measures_of(plans, today):
    """{plan pk: [live measures]} with their criteria, progress reports, evidence and whether overdue: 3 queries."""
    criteria = Criterion.objects.select_related("mechanism", "component").order_by(
        "mechanism__order", "component__order"
    )
    reports = MeasureProgress.objects.select_related("by").order_by("at", "pk")
    rows = (
        Measure.objects.filter(plan__in=[p.pk for p in plans], is_removed=False)
        .prefetch_related(Prefetch("criteria", queryset=criteria), Prefetch("progress", queryset=reports))
        .order_by("order", "pk")
    )
    found = {}
    for m in rows:
        m.criteria_list = list(m.criteria.all())
        m.reports = list(m.progress.all())
        m.links = list(dict.fromkeys(url for r in m.reports for url in r.links))
        m.files = [r for r in m.reports if r.file]
        m.overdue = m.is_overdue(today)
        found.setdefault(m.plan_id, []).append(m)
    return found


def plan_rows(plans, access, today=None):
    """A PlanRow per plan (`plans` with their campaign and municipality loaded), in a fixed number of queries."""
    plans = list(plans)
    if not plans:
        return []
    today = today or timezone.localdate()
    measures = _measures_of(plans, today)
    following = next_campaigns(plans)
    effects = _effects(plans, measures, following, access)
    rows = []
    for plan in plans:
        items = measures.get(plan.pk, [])
        measured = effects.get(plan.pk)
        done = []
        for m in items:
            m.effects = measured.by_measure.get(m.pk) if measured else None
            if m.effects and m.status == Measure.Status.DONE:
                done += m.effects
        counts = {status: sum(1 for m in items if m.status == status) for status in Measure.Status.values}
        rows.append(
            PlanRow(
                plan,
                items,
                following.get(plan.pk),
                lock_reason(following.get(plan.pk), today),
                measured,
                EffectSummary.of(list({e.code: e for e in done}.values())) if measured else None,
                counts,
            )
        )
    return rows


def plan_row(plan, access, today=None):
    return plan_rows([plan], access, today)[0]


# --- the region and the country ----------------------------------------------------------------------------------


@dataclass
class RegionPlans:
    """A region's plans answering a campaign: a row per municipality with a final result (its PlanRow, or None before
    it drafts one) and the figures over them."""

    region: object
    rows: list = field(default_factory=list)  # (municipality, PlanRow or None)
    statuses: dict = field(default_factory=dict)  # {plan status: n}
    measures: int = 0
    done: int = 0
    overdue: int = 0
    summary: EffectSummary | None = None

    @property
    def results(self):
        return len(self.rows)

    @property
    def without_plan(self):
        return sum(1 for _m, row in self.rows if row is None)

    def add(self, municipality, row):
        self.rows.append((municipality, row))
        if row is None:
            return
        self.statuses[row.plan.status] = self.statuses.get(row.plan.status, 0) + 1
        self.measures += len(row.measures)
        self.done += row.counts.get(Measure.Status.DONE, 0)
        self.overdue += row.overdue
        if row.summary is not None:
            self.summary = row.summary if self.summary is None else self.summary + row.summary


def _display_order(municipality):
    """As the territory's lists show them: by region, the city districts first, then by name."""
    return (municipality.region.code, municipality.kind != Municipality.Kind.CITY_DISTRICT, municipality.name)


def plans_by_region(campaign, access, today=None, regions=None):
    """{region: RegionPlans} of the campaign's participants with a final result (of `regions` only, when given)."""
    # The municipalities with a result, not the results: 2,400 of them with their points per mechanism were most of
    # the national overview's time.
    ranked = Municipality.objects.filter(results__campaign=campaign).select_related("region")
    plans = MeasurePlan.objects.filter(campaign=campaign).select_related("campaign", "municipality__region")
    if regions is not None:
        ranked = ranked.filter(region__in=regions)
        plans = plans.filter(municipality__region__in=regions)
    rows = {row.plan.municipality_id: row for row in plan_rows(plans, access, today)}
    found = {}
    for municipality in sorted(ranked, key=_display_order):
        entry = found.setdefault(municipality.region, RegionPlans(municipality.region))
        entry.add(municipality, rows.get(municipality.pk))
    return found


def previous_plans_summary(campaign, access, today=None, regions=None):
    """{region: RegionPlans} of the plans answering the campaign this one follows whose effect this campaign measured:
    what a ministry overview or a regional report of the later campaign says about the measures taken before it."""
    if campaign.previous_id is None or not access.may_see_results(campaign):
        return {}
    found = {}
    for region, entry in plans_by_region(campaign.previous, access, today, regions).items():
        measured = RegionPlans(region)
        for municipality, row in entry.rows:
            if row is not None and row.measured is not None and row.measured.campaign == campaign:
                measured.add(municipality, row)
        if measured.summary is not None:
            found[region] = measured
    return found


def effect_version(campaign):
    """Changes whenever what previous_plans_summary(campaign) shows may: the campaign's results and participants, and
    the measures of the plans answering the campaign it follows (their statuses, criteria, removals). The key of the
    summary a national page keeps in the cache."""
    results = Result.objects.filter(campaign=campaign).aggregate(n=Count("pk"), at=Max("computed_at"), v=Sum("version"))
    held = Measure.objects.filter(plan__campaign_id=campaign.previous_id).aggregate(n=Count("pk"), at=Max("updated_at"))
    members = campaign.participations.count()
    stamp = [results["n"], results["at"], results["v"], held["n"], held["at"], members]
    return ":".join(str(part.timestamp() if hasattr(part, "timestamp") else part) for part in stamp)


# --- the next campaign's form ---------------------------------------------------------------------------------------


def measures_for_form(submission, mechanism):
    """{criterion code of the form: [measures]} of the plan the municipality made in answer to the campaign this one
    follows, beside the criteria they addressed (through their counterparts), so that the organizer can cite what was
    done. Empty without such a plan. A fixed number of queries."""
    campaign = submission.campaign
    if campaign.previous_id is None:
        return {}
    plan = (
        MeasurePlan.objects.filter(campaign_id=campaign.previous_id, municipality_id=submission.municipality_id)
        .select_related("campaign", "municipality")
        .first()
    )
    if plan is None or next_campaigns([plan]).get(plan.pk) != campaign:
        return {}
    corr = correspondence(plan.campaign, campaign)
    codes = set(mechanism.criteria.values_list("code", flat=True))
    found = {}
    for m in _measures_of([plan], timezone.localdate()).get(plan.pk, []):
        m.plan = plan
        for c in m.criteria_list:
            target, _why = counterpart(corr, c.code)
            if target in codes and m not in found.get(target, []):
                found.setdefault(target, []).append(m)
    return found


# --- the home page --------------------------------------------------------------------------------------------------


def _organizer_steps(access, today):
    results = list(
        Result.objects.filter(municipality_id__in=access.organized_municipality_ids)
        .select_related("campaign", "municipality")
        .prefetch_related("campaign__stages")
    )
    results = [r for r in results if r.campaign.results_published_on(today)]
    plans = {
        (p.campaign_id, p.municipality_id): p
        for p in MeasurePlan.objects.filter(municipality_id__in=access.organized_municipality_ids)
    }
    overdue = {}
    for m in overdue_measures(plans.values(), today):
        overdue[m.plan_id] = overdue.get(m.plan_id, 0) + 1
    nexts = followers((r.campaign_id, r.municipality_id) for r in results)
    steps = []
    for r in results:
        key = (r.campaign_id, r.municipality_id)
        if lock_reason(nexts.get(key), today):
            continue
        plan = plans.get(key)
        url = reverse("measure_plan", args=[r.campaign.slug, r.municipality.code])
        names = {"campaign": r.campaign.title, "municipality": r.municipality.name}
        if plan is None:
            steps.append(
                Step(
                    _("Draft the plan of measures answering the results of «%(campaign)s»") % names,
                    _(
                        "The product proposes measures for the weakest criteria from their recommendations: edit them "
                        "and submit the plan to your regional coordinator."
                    ),
                    url,
                    "primary",
                    "list-check",
                )
            )
        elif plan.status == MeasurePlan.Status.RETURNED:
            steps.append(
                Step(
                    _("Revise the plan of measures of %(municipality)s: the coordinator returned it") % names,
                    "",
                    url,
                    "warning",
                    "arrow-return-left",
                )
            )
        elif plan.status == MeasurePlan.Status.DRAFT:
            steps.append(Step(_("Finish and submit the plan of measures of %(municipality)s") % names, "", url))
        elif overdue.get(plan.pk):
            n = overdue[plan.pk]
            steps.append(
                Step(
                    ngettext(
                        "%(n)s measure of the plan of %(municipality)s is overdue",
                        "%(n)s measures of the plan of %(municipality)s are overdue",
                        n,
                    )
                    % {"n": n, **names},
                    _("Report what was done, or the measure's new state."),
                    url,
                    "danger",
                    "alarm",
                )
            )
    return steps


def _coordinator_steps(access, today):
    plans = MeasurePlan.objects.filter(municipality__region_id__in=access.coordinated_region_ids).select_related(
        "campaign", "municipality__region"
    )
    waiting, late = {}, {}
    submitted = list(plans.filter(status=MeasurePlan.Status.SUBMITTED))
    overdue = list(overdue_measures(plans.filter(status=MeasurePlan.Status.APPROVED), today))
    nexts = next_campaigns([*submitted, *{m.plan for m in overdue}])
    for plan in submitted:
        if not lock_reason(nexts.get(plan.pk), today):
            waiting.setdefault((plan.campaign, plan.municipality.region), []).append(plan.municipality.name)
    for m in overdue:
        if not lock_reason(nexts.get(m.plan_id), today):
            late.setdefault((m.plan.campaign, m.plan.municipality.region), set()).add(m.plan.municipality.name)
    steps = []
    for (campaign, region), names in sorted(waiting.items(), key=lambda kv: (kv[0][0].pk, kv[0][1].code)):
        steps.append(
            Step(
                ngettext(
                    "%(n)s plan of measures waits for your approval",
                    "%(n)s plans of measures wait for your approval",
                    len(names),
                )
                % {"n": len(names)},
                ", ".join(sorted(names)[:5]) + ("…" if len(names) > 5 else ""),
                reverse("region_plans", args=[campaign.slug, region.code]),
                "warning",
                "clipboard-check",
            )
        )
    for (campaign, region), names in sorted(late.items(), key=lambda kv: (kv[0][0].pk, kv[0][1].code)):
        steps.append(
            Step(
                ngettext(
                    "Overdue measures in %(n)s municipality",
                    "Overdue measures in %(n)s municipalities",
                    len(names),
                )
                % {"n": len(names)},
                ", ".join(sorted(names)[:5]) + ("…" if len(names) > 5 else ""),
                reverse("region_plans", args=[campaign.slug, region.code]),
                "danger",
                "alarm",
            )
        )
    return steps


def measure_steps(access, today):
    """The plans' steps of the home page: drafting, revising and overdue measures for the organizer; plans to approve
    and overdue measures in the region for the coordinator."""
    steps = []
    if access.is_organizer:
        steps += _organizer_steps(access, today)
    if access.is_coordinator:
        steps += _coordinator_steps(access, today)
    return steps


def plan_status_counts(campaign):
    """{plan status: n} of the campaign's plans: one query."""
    return dict(
        MeasurePlan.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )


# --- the plan's page ----------------------------------------------------------------------------------------------


def criteria_options(campaign):
    """[(mechanism, [criteria])] of the campaign's methodology: the choices of a measure's criteria."""
    groups = {}
    for c in plan_criteria(campaign):
        groups.setdefault(c.mechanism, []).append(c)
    return list(groups.items())


def measure_form(measure=None, failed=None):
    """The fields of a measure's form: as posted when a save was refused (`failed`: {"data", "errors"}), else as
    stored (an empty form without a measure)."""
    if failed:
        data = failed["data"]
        codes = {c.code if isinstance(c, Criterion) else str(c) for c in data.criteria}
        due = data.due.isoformat() if hasattr(data.due, "isoformat") else (data.due or "")
        return {
            "title": data.title,
            "criteria": codes,
            "responsible": data.responsible,
            "due": due,
            "expected_result": data.expected_result,
            "indicator": data.indicator,
            "errors": failed["errors"],
        }
    if measure is None:
        return {"criteria": set(), "errors": {}}
    return {
        "title": measure.title,
        "criteria": {c.code for c in measure.criteria_list},
        "responsible": measure.responsible,
        "due": measure.due_on.isoformat(),
        "expected_result": measure.expected_result,
        "indicator": measure.indicator,
        "errors": {},
    }


def _permissions(access, submission, plan, result, locked):
    municipality = submission.municipality
    drafter = access.can_fill_forms(municipality.pk) and not locked
    may_draft = drafter and result is not None and submission.campaign.results_published
    return {
        "can_start": may_draft and plan is None,
        "can_edit": may_draft and plan is not None and plan.is_editable,
        "can_review": plan is not None
        and plan.status == MeasurePlan.Status.SUBMITTED
        and access.can_manage_region(municipality.region_id)
        and not locked,
        "can_report": drafter and plan is not None and plan.status == MeasurePlan.Status.APPROVED,
    }


def plan_page(access, submission, *, failed=None, today=None):
    """Everything the page of a municipality's plan answering a campaign shows, and what the viewer may do there.
    `failed` ({"key": measure pk or "new", "data", "errors"}) brings back a refused measure as typed."""
    today = today or timezone.localdate()
    campaign, municipality = submission.campaign, submission.municipality
    plan = (
        MeasurePlan.objects.filter(campaign=campaign, municipality=municipality)
        .select_related("campaign__methodology", "municipality__region")
        .order_by("pk")  # one plan (unique key)
        .first()
    )
    result = Result.objects.filter(submission=submission).order_by("pk").first()
    row = plan_row(plan, access, today) if plan else None
    following = row.following if row else next_campaign(campaign, municipality.pk)
    locked = lock_reason(following, today)
    context = {
        "campaign": campaign,
        "municipality": municipality,
        "submission": submission,
        "result": result,
        "published": access.may_see_results(campaign),
        "plan": plan,
        "row": row,
        "following": following,
        "locked": locked,
        "history": plan.changes.select_related("by").order_by("-at", "-pk") if plan else [],
        "statuses": Measure.Status.choices,
        "caveat": CAVEAT,
        "today": today,
        **_permissions(access, submission, plan, result, locked),
    }
    failed = failed or {}
    if context["can_start"]:
        context["proposal"] = plan_proposal(campaign=campaign, municipality=municipality, today=today)
    if context["can_edit"]:
        context["options"] = criteria_options(campaign)
        context["new_form"] = measure_form(failed=failed if failed.get("key") == "new" else None)
        for m in row.measures:
            m.form = measure_form(m, failed if failed.get("key") == m.pk else None)
    return context

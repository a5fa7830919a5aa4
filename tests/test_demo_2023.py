"""The demo's follow-up (issue 16): plans made after the 2020 pilot, a finished 2023 campaign following it, and
2026 following 2023 — with results that move the way the plans and the seeds suggest."""

from assessment.models import Campaign, Measure, MeasurePlan, Result, Score
from fixtures.demo_2023 import TOTALS


def test_the_campaigns_follow_each_other(demo):
    pilot, followup, current = (Campaign.objects.get(slug=s) for s in ("2020-approbation", "2023", "2026"))

    assert followup.previous == pilot and current.previous == followup
    assert "иллюстратив" in followup.title
    assert not followup.participations.filter(municipality__code="lagan").exists()
    results = dict(Result.objects.filter(campaign=followup).values_list("municipality__code", "total"))
    assert results == TOTALS
    before = dict(Result.objects.filter(campaign=pilot).values_list("municipality__code", "total"))
    kalmykia = ("elista", "iki-burul", "yashalta", "sarpa", "yashkul")
    assert all(results[code] > before[code] for code in kalmykia)  # the authorities' websites filled up
    assert any(results[code] < before[code] for code in results)  # and some fell back


def test_plans_after_2020_with_their_fate_and_what_followed(demo):
    plans = MeasurePlan.objects.filter(campaign__slug="2020-approbation")
    measures = Measure.objects.filter(plan__in=plans)

    assert plans.count() == 16 and not plans.filter(municipality__code__in=["lagan", "sarpa"]).exists()
    assert plans.filter(status="returned").count() == 1
    assert {"done", "in_progress", "cancelled"} <= set(measures.values_list("status", flat=True))
    finals = {
        (campaign, municipality, code): points
        for campaign, municipality, code, points in Score.objects.filter(
            submission__campaign__slug__in=["2020-approbation", "2023"], round="final", is_current=True
        ).values_list("submission__campaign__slug", "submission__municipality_id", "criterion__code", "points")
    }
    gained = [
        finals[("2023", m.plan.municipality_id, c.code)] > finals[("2020-approbation", m.plan.municipality_id, c.code)]
        for m in measures.filter(status="done").select_related("plan").prefetch_related("criteria")
        for c in m.criteria.all()
    ]
    assert len(gained) >= 40 and sum(gained) >= 0.7 * len(gained)

"""Plans of measures where results are shown by pages of other floors: the scorecard (the plan's link, and the effect
of the measures taken after the campaign this one follows), the ministry's overview and the regional report. Each tag
reads what it shows in a fixed number of queries (assessment/measure_selectors.py)."""

from django import template
from django.core.cache import cache

from assessment import measure_selectors
from assessment.models import MeasurePlan
from municipalities.access import Access

register = template.Library()

# Who sees what a report made once for everyone shows: any signed-in user, i.e. published results only.
EVERY_SIGNED_IN = Access(user_id=0)


def _access(context):
    return context.get("access") or EVERY_SIGNED_IN


@register.inclusion_tag("measures/_scorecard_link.html")
def plan_link(campaign, municipality):
    """The button to the municipality's plan answering the campaign, with its state."""
    plan = MeasurePlan.objects.filter(campaign=campaign, municipality=municipality).order_by("pk").first()
    return {"campaign": campaign, "municipality": municipality, "plan": plan}


@register.inclusion_tag("measures/_scorecard_effect.html", takes_context=True)
def plan_effect(context, campaign, municipality):
    """On a scorecard: the measures of the plan answering the campaign this one follows, and what followed them."""
    if campaign.previous_id is None:
        return {}
    plan = (
        MeasurePlan.objects.filter(campaign_id=campaign.previous_id, municipality=municipality)
        .select_related("campaign", "municipality")
        .order_by("pk")  # one plan (unique key): the default order would join for nothing
        .first()
    )
    if plan is None:
        return {}
    row = measure_selectors.plan_row(plan, _access(context))
    if row.measured is None or row.measured.campaign != campaign:
        return {}
    return {"row": row, "plan": plan, "caveat": measure_selectors.CAVEAT}


@register.inclusion_tag("measures/_overview.html", takes_context=True)
def plans_overview(context, campaign):
    """On the ministry's overview: the plans answering this campaign, and what followed the plans answering the one it
    follows, region by region."""
    access = _access(context)
    return {
        "campaign": campaign,
        "counts": measure_selectors.plan_status_counts(campaign),
        "statuses": MeasurePlan.Status.choices,
        "effect": _effect_by_region(campaign, access),
        "caveat": measure_selectors.CAVEAT,
    }


def _effect_by_region(campaign, access):
    """[(region, EffectSummary)] of previous_plans_summary: every plan of the country is read once per version of
    what it shows (effect_version), not on every visit of the overview."""
    if campaign.previous_id is None or not access.may_see_results(campaign):
        return []
    key = f"plans-effect:{campaign.pk}:{measure_selectors.effect_version(campaign)}"
    found = cache.get(key)
    if found is None:
        found = [
            {"region": entry.region, "summary": entry.summary}
            for entry in sorted(
                measure_selectors.previous_plans_summary(campaign, access).values(), key=lambda e: e.region.code
            )
        ]
        cache.set(key, found, 3600)
    return found


@register.inclusion_tag("measures/_report.html")
def plans_in_report(campaign, region):
    """In the regional report: what followed the measures the region's municipalities took after the campaign this
    one follows (published results only: the report is made once for everyone who may read it)."""
    found = measure_selectors.previous_plans_summary(campaign, EVERY_SIGNED_IN, regions=[region])
    return {"campaign": campaign, "entry": found.get(region), "caveat": measure_selectors.CAVEAT}

"""The summer holidays. The 2020 approbation collected its data in July and August, when many specialists of the
education authorities were on leave (seed 004, third problem): one date-range check, so that the campaign form,
the campaign page and the dashboards of the operator and the coordinators warn about the same stages."""

from datetime import date

from assessment.models import Stage

# The stages that need the municipalities' and the schools' people at work.
WATCHED = (Stage.DATA_COLLECTION, Stage.SURVEYS)


def overlaps_summer(start, end):
    """Whether the period start..end (inclusive) has a day in July or August of any year."""
    if not (start and end) or end < start:
        return False
    return any(start <= date(year, 8, 31) and end >= date(year, 7, 1) for year in range(start.year, end.year + 1))


def summer_stages(periods):
    """The watched stages of `periods` ({Stage: (start, end)}, as the campaign form has them) that run into
    July–August, in the stages' order."""
    return [stage for stage in WATCHED if stage in periods and overlaps_summer(*periods[stage])]


def campaign_summer_stages(campaign, *, until_over_on=None):
    """The campaign's data-collection and survey stages (CampaignStage rows) that run into July–August; with
    `until_over_on` (a day), only those not over by then: a warning is for what can still be arranged."""
    rows = []
    for stage in WATCHED:
        period = campaign.stage_dates.get(stage)
        if period is None or not overlaps_summer(period.starts_on, period.ends_on):
            continue
        if until_over_on is not None and period.ends_on < until_over_on:
            continue
        rows.append(period)
    return rows

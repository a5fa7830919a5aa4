"""The survey's part of the dashboards: live response rates and what to do about them."""

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from municipalities.home import Step
from municipalities.models import Municipality, Region
from surveys import stats
from surveys.models import Invitation
from surveys.services import survey_period

SOON_DAYS = 14


def _rate_line(counts):
    return _("%(responded)s of %(invited)s answered (%(rate)s %%)") % {
        "responded": counts["responded"],
        "invited": counts["invited"],
        "rate": formats.number_format(round(100 * counts["rate"])),
    }


def survey_dashboard(access, campaigns, today):
    """(steps, cards): a step per place the user answers for, and a card of rates per open survey."""
    steps, cards = [], []
    for campaign in campaigns:
        period = survey_period(campaign)
        if period is None or today > period.ends_on:
            continue
        days_left = (period.ends_on - today).days
        if today < period.starts_on:
            if (period.starts_on - today).days <= SOON_DAYS and (access.is_operator or access.is_coordinator):
                steps.extend(_prepare_steps(access, campaign, period))
            continue
        regions = stats.response_rates(campaign, access.municipalities())
        if not regions:
            continue
        total = stats.totals(regions)
        cards.append({"campaign": campaign, "total": total, "regions": regions, "days_left": days_left})
        tone = "danger" if days_left <= 3 and total["rate"] < 0.7 else "warning" if days_left <= 7 else "primary"
        if access.is_national:
            steps.append(
                Step(
                    _("School survey of «%(campaign)s»") % {"campaign": campaign.title},
                    _rate_line(total),
                    reverse("survey_overview", args=[campaign.slug]),
                    "primary",
                    "people",
                )
            )
        elif access.is_coordinator:
            for region in regions:
                pending = region["invited"] - region["responded"]
                steps.append(
                    Step(
                        _("School survey in %(region)s: %(rate)s")
                        % {"region": region["name"], "rate": _rate_line(region)},
                        ngettext("%(n)s link is not answered yet.", "%(n)s links are not answered yet.", pending)
                        % {"n": pending}
                        + " "
                        + ngettext(
                            "%(days)s day left: remind the schools.",
                            "%(days)s days left: remind the schools.",
                            days_left,
                        )
                        % {"days": days_left},
                        reverse("survey_region", args=[campaign.slug, region["code"]]),
                        tone,
                        "people",
                    )
                )
        if access.is_organizer and not access.is_national:
            mine = set(
                Municipality.objects.filter(pk__in=access.organized_municipality_ids).values_list("code", flat=True)
            )
            for region in regions:
                for m in region["municipalities"]:
                    if m["code"] in mine:
                        steps.append(
                            Step(
                                _("School survey in %(municipality)s: %(rate)s")
                                % {"municipality": m["name"], "rate": _rate_line(m)},
                                _(
                                    "The region sends the links to the schools' own addresses; here you see which "
                                    "schools have answered."
                                ),
                                reverse("survey_municipality", args=[campaign.slug, m["code"]]),
                                tone,
                                "people",
                            )
                        )
    return steps, cards


def _prepare_steps(access, campaign, period):
    regions = access.regions() if access.is_coordinator and not access.is_operator else Region.objects.all()
    regions = regions.filter(municipalities__participations__campaign=campaign).distinct()
    invited = set(
        Invitation.objects.filter(campaign=campaign)
        .values_list("school__municipality__region_id", flat=True)
        .distinct()
    )
    return [
        Step(
            _("Prepare the school survey links for %(region)s") % {"region": region.name},
            _("The survey of «%(campaign)s» opens on %(date)s.")
            % {"campaign": campaign.title, "date": formats.date_format(period.starts_on, "j E Y")},
            reverse("survey_region", args=[campaign.slug, region.code]),
            "warning",
            "link-45deg",
        )
        for region in regions.order_by("code")
        if region.pk not in invited
    ]

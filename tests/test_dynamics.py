"""Campaign succession and dynamics (issue 16, parts 1, 2 and the scale half of 7): which criterion continues which
between methodology versions (by code, by the operator's mapping, or none), the change of each municipality from the
previous campaign in the ranking, its filters, the regions, the ministry's overview, the scorecard with its trend,
the reports, the exports and the API; the previous campaign's figures only for whoever may see its results; the
same number of queries for many municipalities as for a few."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import load_workbook

from assessment import dynamics, scoring
from assessment.admin import CriterionMappingForm
from assessment.dynamics import Compared, CriterionRef, Standing
from assessment.models import (
    Campaign,
    CampaignStage,
    Criterion,
    CriterionMapping,
    Participation,
    Result,
    Score,
    Stage,
    Submission,
)
from assessment.results import results_compute, specs_for
from assessment.services import campaign_save, methodology_new_version
from municipalities.models import Municipality
from reports import documents, results
from reports.api import MunicipalityCardSerializer, RankingSerializer
from reports.services import results_key

PREVIOUS_TOTALS = {"kirov": 300, "kumeny": 50}  # elista took no part; conftest's FINAL_TOTALS are now
# kirov 300 → 281: −19, the same level (partially formed), still first; kumeny 50 → 136: +86, not formed → separate
# elements, second then and now (tied with elista).


# --- data ---------------------------------------------------------------------------------------------------------


def finalize(campaign, totals, by):
    """Final scores adding up to `totals` ({municipality code: total}), the submissions finalized, the results
    computed."""
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)}
    specs = specs_for(campaign.methodology_id)
    scores = []
    for submission in campaign.submissions.select_related("municipality"):
        if submission.municipality.code not in totals:
            continue
        points = scoring.distribute(totals[submission.municipality.code], specs)
        scores += [
            Score(submission=submission, criterion=criteria[code], round=Score.Round.FINAL, points=p, by=by)
            for code, p in points.items()
        ]
    Score.objects.bulk_create(scores)
    campaign.submissions.filter(municipality__code__in=totals).update(status=Submission.Status.FINALIZED)
    results_compute(campaign=campaign)


def earlier_campaign(world, methodology, totals=PREVIOUS_TOTALS, *, published=True, slug="test-2023", year=2023):
    """A finished campaign (results published, or with `published=False` still to come) of the municipalities of
    `totals`."""
    today = timezone.localdate()
    period = (today - timedelta(days=400), today - timedelta(days=300))
    if not published:
        period = (today + timedelta(days=300), today + timedelta(days=400))
    by_code = {m.code: m for m in (world.municipality, world.sibling, world.other_municipality)}
    campaign = campaign_save(
        campaign=Campaign(slug=slug, title=f"Кампания {year}", year=year, methodology=methodology),
        stages=dict.fromkeys(Stage, period),
        municipalities=[by_code[code] for code in totals],
        by=world.users["operator"],
    )
    finalize(campaign, totals, world.users["operator"])
    return campaign


@pytest.fixture
def followed(finalized, world, methodology):
    """conftest's finalized campaign (2026), following a published 2023 campaign of the same methodology."""
    previous = earlier_campaign(world, methodology)
    Campaign.objects.filter(pk=finalized.pk).update(previous=previous)
    cache.clear()
    return Campaign.objects.get(pk=finalized.pk)


def new_edition(methodology):
    """A later version of the methodology: 1.1.1 worth 6 (was 5) and 1.1.2 worth 9 (was 10), the total unchanged."""
    edition = methodology_new_version(methodology=methodology)
    Criterion.objects.filter(mechanism__methodology=edition, code="1.1.1").update(max_points=6)
    Criterion.objects.filter(mechanism__methodology=edition, code="1.1.2").update(max_points=9)
    return edition


def criterion(methodology, code):
    return Criterion.objects.select_related("mechanism__methodology", "component").get(
        mechanism__methodology=methodology, code=code
    )


def refs(*items):
    return [
        CriterionRef(code, max_points, code.rsplit(".", 1)[0], int(code.rsplit(".", 1)[1]))
        for code, max_points in items
    ]


# --- pure: which criterion continues which ----------------------------------------------------------------------


def test_criteria_correspond_by_code_by_default():
    corr = dynamics.correspond(refs(("1.1.1", 5), ("1.1.2", 10)), refs(("1.1.1", 5), ("1.1.2", 10)))

    assert corr.pairs == {"1.1.1": "1.1.1", "1.1.2": "1.1.2"} and corr.complete and corr.maximum == 15
    assert corr.source_of("1.1.2") == "1.1.2"


def test_a_mapping_row_overrides_the_code_and_its_target_is_nobody_elses():
    sources = refs(("1.1.1", 5), ("1.1.2", 5), ("1.1.3", 5))
    targets = refs(("1.1.1", 5), ("1.1.2", 5), ("1.1.3", 5))

    corr = dynamics.correspond(sources, targets, {"1.1.1": "1.1.3"})

    # 1.1.3 of the later version continues 1.1.1; the earlier 1.1.3 then has none, and the later 1.1.1 no source.
    assert corr.pairs == {"1.1.1": "1.1.3", "1.1.2": "1.1.2"}
    assert corr.unpaired == {"1.1.3": dynamics.NOT_FOUND} and corr.unpaired_targets == {"1.1.1"}
    assert not corr.complete and corr.source_of("1.1.3") == "1.1.1" and corr.source_of("1.1.1") is None


def test_no_counterpart_is_said_never_a_number():
    targets = refs(("1.1.1", 5), ("1.1.2", 5))
    corr = dynamics.correspond(refs(("1.1.1", 5), ("1.1.2", 5)), targets, {"1.1.2": None})

    by_mechanism = dynamics.compare({"1.1.1": 4, "1.1.2": 5}, {"1.1.1": 5, "1.1.2": 1}, corr, targets)
    only_the_unmapped = dynamics.compare({"1.1.2": 5}, {"1.1.2": 1}, corr, targets[1:])
    rows = {r.spec.code: r for r in dynamics.criterion_changes({"1.1.1": 4, "1.1.2": 5}, {}, corr, targets)}

    assert corr.unpaired == {"1.1.2": dynamics.NO_COUNTERPART}
    assert by_mechanism[None] == Compared(before=4, after=5, maximum=5, criteria=1, without=1)
    assert only_the_unmapped[None].before is None and only_the_unmapped[None].delta is None
    assert (rows["1.1.1"].source, rows["1.1.1"].before) == ("1.1.1", 4)
    assert (rows["1.1.2"].source, rows["1.1.2"].before) == (None, None)


def test_a_counterpart_of_another_maximum_is_not_compared():
    corr = dynamics.correspond(refs(("1.1.1", 5), ("1.1.2", 10)), refs(("1.1.1", 6), ("1.1.2", 10)))

    assert corr.pairs == {"1.1.2": "1.1.2"} and corr.unpaired == {"1.1.1": dynamics.OTHER_MAXIMUM}
    assert corr.maximum == 10  # what is compared is worth the same on both sides: the totals add up


def test_the_change_of_total_share_rank_and_level():
    before = Standing(300, 555, Decimal("0.5405"), "partially_formed", 1, 1)
    after = Standing(281, 555, Decimal("0.5063"), "partially_formed", 3, 2)
    risen = dynamics.change_between(
        Standing(50, 555, Decimal("0.0901"), "not_formed", 2, 2),
        Standing(136, 555, Decimal("0.2450"), "separate_elements", 1, 1),
    )

    change = dynamics.change_between(before, after)
    regional = dynamics.change_between(before, after, regional=True)

    assert (change.total, change.share, change.rank, change.levels) == (-19, Decimal("-0.0342"), -2, 0)
    assert regional.rank == -1
    assert (risen.total, risen.rank, risen.level_from, risen.level_to, risen.levels) == (
        86,
        1,
        "not_formed",
        "separate_elements",
        1,
    )
    passing = {name for name, test in dynamics.CHANGE_FILTERS.items() if test(risen)}
    assert passing == {"improved", "level_up"}
    assert {name for name, test in dynamics.CHANGE_FILTERS.items() if test(change)} == {"worsened"}


def test_totals_compare_on_comparable_criteria_only_when_some_have_no_counterpart():
    before = Standing(300, 555, Decimal("0.5405"), "partially_formed", 1)
    after = Standing(281, 555, Decimal("0.5063"), "partially_formed", 1)

    change = dynamics.change_between(before, after, compared=Compared(200, 230, 500, 78, 3))
    nothing = dynamics.change_between(before, after, compared=Compared(None, 0, 0, 0, 81))

    assert (change.total, change.share, change.comparable_only) == (30, Decimal("0.0600"), True)
    assert nothing is None  # nothing comparable: no change at all rather than an invented one


def test_movers_are_the_largest_gains_and_losses():
    def change(total):
        return dynamics.Change(total, Decimal(total) / 555, 0, "not_formed", "not_formed")

    up, down = dynamics.movers({"a": change(5), "b": change(-3), "c": change(40), "d": change(0), "e": None}, 1)

    assert (up, down) == (["c"], ["b"])


# --- the operator's mapping ------------------------------------------------------------------------------------------


def test_the_mapping_rows_and_the_code_give_the_correspondence_of_two_versions(methodology):
    edition = new_edition(methodology)
    CriterionMapping.objects.create(source=criterion(methodology, "1.1.3"), target=None)
    CriterionMapping.objects.create(source=criterion(methodology, "1.1.4"), target=criterion(edition, "1.1.6"))

    corr = dynamics.correspondence_between(methodology.pk, edition.pk)

    assert corr.unpaired == {
        "1.1.1": dynamics.OTHER_MAXIMUM,
        "1.1.2": dynamics.OTHER_MAXIMUM,
        "1.1.3": dynamics.NO_COUNTERPART,
        "1.1.6": dynamics.NOT_FOUND,
    }
    assert corr.pairs["1.1.4"] == "1.1.6" and len(corr.pairs) == 77 and corr.maximum == 555 - 6 - 9 - 5 - 5
    assert dynamics.correspondence_between(methodology.pk, methodology.pk).identical


def _mapping_form(source, target, instance=None):
    return CriterionMappingForm(
        data={"source": source.pk, "target": target.pk if target else "", "note": ""}, instance=instance
    )


def test_two_criteria_mapped_to_one_are_refused_with_a_clear_message(methodology):
    edition = new_edition(methodology)
    CriterionMapping.objects.create(source=criterion(methodology, "1.1.4"), target=criterion(edition, "1.1.6"))

    form = _mapping_form(criterion(methodology, "1.2.1"), criterion(edition, "1.1.6"))

    assert not form.is_valid()
    [message] = form.errors["target"]
    assert "1.1.4" in message and "1.1.6" in message  # names the criterion that already has it
    assert CriterionMapping.objects.count() == 1


@pytest.mark.parametrize("case", ["same-methodology", "older-target", "other-maximum", "source-twice"])
def test_a_mapping_that_cannot_compare_is_refused(methodology, case):
    edition = new_edition(methodology)
    CriterionMapping.objects.create(source=criterion(methodology, "1.2.1"), target=None)
    source, target = {
        "same-methodology": (criterion(methodology, "1.1.3"), criterion(methodology, "1.1.4")),
        "older-target": (criterion(edition, "1.1.3"), criterion(methodology, "1.1.3")),
        "other-maximum": (criterion(methodology, "1.1.3"), criterion(edition, "1.1.2")),
        "source-twice": (criterion(methodology, "1.2.1"), criterion(edition, "1.2.1")),
    }[case]

    form = _mapping_form(source, target)

    assert not form.is_valid() and form.errors
    assert CriterionMapping.objects.count() == 1


def test_the_admin_refuses_a_second_source_and_saves_nothing(methodology, world, client):
    from django.contrib.auth import get_user_model

    edition = new_edition(methodology)
    CriterionMapping.objects.create(source=criterion(methodology, "1.1.4"), target=criterion(edition, "1.1.6"))
    admin = get_user_model().objects.create_superuser("t-admin", "admin@example.org", "x")
    client.force_login(admin)

    response = client.post(
        reverse("admin:assessment_criterionmapping_add"),
        {"source": criterion(methodology, "1.1.5").pk, "target": criterion(edition, "1.1.6").pk, "note": ""},
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    assert response.status_code == 200 and "1.1.4" in response.content.decode()
    assert CriterionMapping.objects.count() == 1


# --- the campaign a campaign follows ----------------------------------------------------------------------------------


def _campaign_post(campaign, **changes):
    """The campaign form as the page fills it in, with `changes`."""
    from assessment.forms import CampaignForm

    form = CampaignForm(instance=campaign)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is None:
            data[name] = ""
        elif hasattr(value, "isoformat"):
            data[name] = value.isoformat()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    data.update(changes)
    return data


def test_the_operator_chooses_the_previous_campaign(followed, world, as_role):
    earlier = followed.previous
    Campaign.objects.filter(pk=followed.pk).update(previous=None)
    client = as_role(world, "operator")

    response = client.post(
        reverse("campaign_edit", args=[followed.slug]), _campaign_post(followed, previous=earlier.pk)
    )

    assert response.status_code == 302
    assert Campaign.objects.get(pk=followed.pk).previous_id == earlier.pk


@pytest.mark.parametrize("case", ["later", "same-year", "itself"])
def test_only_an_earlier_campaign_may_be_followed(followed, world, as_role, methodology, case):
    later = earlier_campaign(world, methodology, {"kirov": 10}, slug="test-2030", year=2030)
    same = earlier_campaign(world, methodology, {"kirov": 10}, slug="test-2026b", year=2026)
    target = {"later": later, "same-year": same, "itself": followed}[case]
    before = Campaign.objects.get(pk=followed.pk).previous_id

    response = as_role(world, "operator").post(
        reverse("campaign_edit", args=[followed.slug]), _campaign_post(followed, previous=target.pk, title="Новое")
    )

    assert response.status_code == 200 and response.context["form"].errors["previous"]
    saved = Campaign.objects.get(pk=followed.pk)
    assert (saved.previous_id, saved.title) == (before, followed.title)  # nothing half-saved


def test_a_loop_of_previous_campaigns_is_refused(followed, world, as_role):
    earlier = followed.previous

    response = as_role(world, "operator").post(
        reverse("campaign_edit", args=[earlier.slug]), _campaign_post(earlier, previous=followed.pk)
    )

    errors = " ".join(response.context["form"].errors["previous"])
    assert response.status_code == 200 and followed.title in errors
    assert Campaign.objects.get(pk=earlier.pk).previous_id is None
    assert dynamics.previous_errors(earlier, followed, year=2030)  # a loop even when the years would allow it


# --- the ranking ------------------------------------------------------------------------------------------------


def _changes(rows):
    return {
        r.municipality.code: (r.previous.total if r.previous else None, r.change.total if r.change else None)
        for r in rows
    }


def test_the_ranking_gives_each_municipality_its_change(followed):
    succession = dynamics.succession_of(followed)

    rows = results.with_changes(results.ranking(followed), succession)

    assert _changes(rows) == {"kirov": (300, -19), "kumeny": (50, 86), "elista": (None, None)}
    kumeny = next(r for r in rows if r.municipality.code == "kumeny")
    assert (kumeny.change.level_from, kumeny.change.level_to, kumeny.change.rank) == (
        "not_formed",
        "separate_elements",
        0,
    )


@pytest.mark.parametrize(
    ("change", "codes"),
    [("improved", ["kumeny"]), ("worsened", ["kirov"]), ("level_up", ["kumeny"]), ("level_down", [])],
)
def test_the_ranking_page_filters_by_change(followed, world, as_role, change, codes):
    response = as_role(world, "coordinator").get(reverse("ranking", args=[followed.slug]), {"change": change})

    assert response.status_code == 200
    assert [r.municipality.code for r in response.context["rows"]] == codes


def test_the_ranking_page_shows_the_change_columns(followed, world, as_role):
    page = as_role(world, "organizer").get(reverse("ranking", args=[followed.slug])).content.decode()

    assert "Кампания 2023" in page and 'name="change"' in page
    assert "\u221219" in page and "+86" in page  # a true minus sign


@pytest.mark.parametrize("query", [{"change": "better"}, {"change": "improved; DROP"}, {"change": "x" * 500}])
def test_an_unknown_change_filter_is_400(followed, world, as_role, query):
    response = as_role(world, "ministry").get(reverse("ranking", args=[followed.slug]), query)

    assert response.status_code == 400 and response.context["errors"]


def test_without_a_previous_campaign_nothing_has_changed(finalized, world, as_role):
    client = as_role(world, "ministry")

    page = client.get(reverse("ranking", args=[finalized.slug]), {"change": "improved"})
    export = client.get(reverse("ranking_export", args=[finalized.slug, "json"]), {"change": "improved"})
    api = client.get(reverse("api-ranking", args=[finalized.slug]), {"change": "improved"})

    assert page.status_code == export.status_code == api.status_code == 200
    assert list(page.context["rows"]) == [] and json.loads(export.content)["results"] == [] == api.json()["results"]
    assert "ranking-compared" not in client.get(reverse("ranking", args=[finalized.slug])).content.decode()


def test_the_exports_carry_the_change(followed, world, as_role):
    client = as_role(world, "ministry")

    body = json.loads(client.get(reverse("ranking_export", args=[followed.slug, "json"])).content)
    csv = client.get(reverse("ranking_export", args=[followed.slug, "csv"])).content.decode("utf-8-sig")
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("ranking_export", args=[followed.slug, "xlsx"])).content)
    ).active
    header = [c.value for c in sheet[1]]
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}

    by_code = {r["municipality"]["code"]: r for r in body["results"]}
    assert by_code["kirov"]["previous_total"] == 300 and by_code["kirov"]["change"]["total"] == -19
    assert by_code["elista"]["previous_total"] is None and by_code["elista"]["change"] is None
    assert "Кампания 2023" in csv.splitlines()[0]
    assert rows["kumeny"][gettext("Change of total")] == 86 and rows["elista"][gettext("Change of total")] is None


# --- the API ----------------------------------------------------------------------------------------------------------


def test_the_api_ranking_and_card_carry_the_previous_campaign(followed, world, as_role):
    client = as_role(world, "organizer")

    ranking = client.get(reverse("api-ranking", args=[followed.slug])).json()
    card = client.get(reverse("api-municipality", args=[followed.slug, "kirov"])).json()
    campaigns = {c["slug"]: c["previous"] for c in client.get(reverse("api-campaigns")).json()["results"]}

    assert RankingSerializer(data=ranking).is_valid() and MunicipalityCardSerializer(data=card).is_valid()
    rows = {r["municipality"]["code"]: r for r in ranking["results"]}
    assert rows["kirov"]["previous_total"] == 300
    assert rows["kirov"]["change"] == {
        "total": -19,
        "share": -0.0342,
        "rank": 0,
        "level_from": "partially_formed",
        "level_to": "partially_formed",
        "comparable_only": False,
    }
    assert rows["elista"]["previous_total"] is None and rows["elista"]["change"] is None
    assert card["previous"] == {
        "campaign": "test-2023",
        "total": 300,
        "max_total": 555,
        "share": 0.5405,
        "level": "partially_formed",
        "rank": 1,
    }
    assert sum(m["previous_points"] for m in card["mechanisms"]) == 300
    assert campaigns == {"test-2026": "test-2023", "test-2023": None}


def test_the_api_filters_the_ranking_by_change(followed, world, as_role):
    body = as_role(world, "ministry").get(reverse("api-ranking", args=[followed.slug]), {"change": "improved"}).json()

    assert [r["municipality"]["code"] for r in body["results"]] == ["kumeny"] and body["count"] == 1


def test_a_municipality_new_to_the_campaigns_has_no_previous_card(followed, world, as_role):
    card = as_role(world, "ministry").get(reverse("api-municipality", args=[followed.slug, "elista"])).json()

    assert card["previous"] is None and {m["previous_points"] for m in card["mechanisms"]} == {None}
    assert MunicipalityCardSerializer(data=card).is_valid()


# --- who sees the previous campaign's figures --------------------------------------------------------------------------


def _unpublish(campaign):
    future = timezone.localdate() + timedelta(days=30)
    CampaignStage.objects.filter(campaign=campaign, stage=Stage.RESULTS).update(
        starts_on=future, ends_on=future + timedelta(days=5)
    )
    cache.clear()


def test_an_organizer_sees_the_previous_figures_only_once_they_are_published(followed, world, as_role):
    _unpublish(followed.previous)
    url = reverse("ranking", args=[followed.slug])

    organizer = as_role(world, "organizer")
    hidden_page = organizer.get(url).content.decode()
    hidden_api = organizer.get(reverse("api-ranking", args=[followed.slug])).json()
    hidden_card = organizer.get(reverse("api-municipality", args=[followed.slug, "kirov"])).json()
    scorecard = organizer.get(reverse("scorecard", args=[followed.slug, "kirov"]))
    hidden_scorecard = scorecard.content.decode()
    hidden_filter = organizer.get(url, {"change": "improved"})
    ministry = as_role(world, "ministry").get(reverse("api-ranking", args=[followed.slug])).json()

    assert "Кампания 2023" not in hidden_page and "ranking-compared" not in hidden_page
    assert {r["previous_total"] for r in hidden_api["results"]} == {None}
    assert hidden_card["previous"] is None and {m["previous_points"] for m in hidden_card["mechanisms"]} == {None}
    assert "Кампания 2023" not in hidden_scorecard and "chart-trend" not in hidden_scorecard
    assert [r.campaign.slug for r in scorecard.context["history"]] == ["test-2026"]  # no unpublished campaign
    assert hidden_filter.status_code == 200 and list(hidden_filter.context["rows"]) == []
    assert {r["municipality"]["code"]: r["previous_total"] for r in ministry["results"]}["kirov"] == 300

    CampaignStage.objects.filter(campaign=followed.previous, stage=Stage.RESULTS).update(
        starts_on=timezone.localdate() - timedelta(days=1)
    )
    shown = as_role(world, "organizer").get(reverse("api-ranking", args=[followed.slug])).json()
    assert {r["municipality"]["code"]: r["previous_total"] for r in shown["results"]}["kirov"] == 300


def test_reports_compare_only_with_a_published_previous_campaign(followed, world):
    published_key = results_key(followed)
    _unpublish(followed.previous)
    campaign = Campaign.objects.get(pk=followed.pk)

    report = documents.region_report(campaign, world.region)

    assert report.succession is None and all(r.change is None for r in report.results)
    assert "Кампания 2023" not in documents.feedback_html(campaign, world.municipality)
    # A report made while the previous campaign was published is not handed out once it is not (and vice versa).
    assert results_key(campaign) != published_key


# --- the scorecard, the regions, the overview, the reports ---------------------------------------------------------------


def test_the_scorecard_compares_and_draws_the_trend_with_its_table(followed, world, as_role):
    page = as_role(world, "organizer").get(reverse("scorecard", args=[followed.slug, "kirov"]))
    html = page.content.decode()

    assert page.status_code == 200
    assert 'class="chart-trend"' in html and "<svg" in html and "trend-table" in html
    assert 'aria-labelledby="trend-chart-title"' in html and 'aria-labelledby="trend-chart-phone-title"' in html
    assert "Кампания 2023" in html and "Тестовая кампания" in html
    assert "\u221219" in html and "components-compared" in html
    comparison = page.context["comparison"]
    assert comparison["change"].total == -19 and sum(c.before for c in comparison["mechanisms"].values()) == 300
    assert sum(c.before for _component, c in comparison["components"]) == 300
    assert comparison["criteria"]["1.1.1"].before is not None


def test_a_municipality_new_to_the_campaigns_has_no_comparison_on_its_scorecard(followed, world, as_role):
    page = as_role(world, "ministry").get(reverse("scorecard", args=[followed.slug, "elista"]))

    assert page.status_code == 200 and not page.context["comparison"]
    assert "chart-trend" not in page.content.decode()  # one campaign: no line to draw


def test_the_regions_and_the_ministry_overview_show_the_change(followed, world, as_role):
    regions = as_role(world, "coordinator").get(reverse("region_ranking", args=[followed.slug]))
    overview = as_role(world, "ministry").get(reverse("ministry_dashboard", args=[followed.slug]))

    kirov_region = next(r for r in regions.context["rows"] if r.region.code == "43")
    assert kirov_region.before is not None and kirov_region.before.levels["not_formed"] == 1
    assert next(r for r in regions.context["rows"] if r.region.code == "08").before is None
    assert [r.municipality.code for r in overview.context["changes"]["gains"]] == ["kumeny"]
    assert [r.municipality.code for r in overview.context["changes"]["losses"]] == ["kirov"]
    html = overview.content.decode()
    assert "movers-up" in html and 'id="levels-before-title"' in html
    # a phone gets each chart drawn for its width, labels above the bars (reports.charts.PHONE)
    assert 'id="levels-phone-title"' in html and 'id="levels-before-phone-title"' in html
    phone = overview.context["changes"]["phone_chart_before"]
    assert phone["width"] == 330 and phone["label_width"] == 0 and phone["label_y"] < phone["bar_y"]


def test_the_regional_and_feedback_reports_carry_the_change(followed, world):
    report = documents.region_report(followed, world.region)
    html = documents.region_html(report)
    sheets = {s.title: s for s in documents.region_sheets(report)}
    feedback = documents.feedback_html(followed, world.municipality)

    assert {r.municipality.code: r.change.total for r in report.results} == {"kirov": -19, "kumeny": 86}
    assert report.levels_before == {"not_formed": 1, "separate_elements": 0, "partially_formed": 1, "formed": 0}
    assert "Кампания 2023" in html and "+86" in html
    ranking = next(s for s in sheets.values() if any("2023" in c.header for c in s.columns))
    assert len(ranking.columns) == len(ranking.rows[0])
    [by_mechanism] = [s for title, s in sheets.items() if title not in ("Рейтинг",) and len(s.columns) == 19]
    assert sum(row[1] for row in by_mechanism.rows if row[0] == world.municipality.name) >= 0
    assert "Кампания 2023" in feedback and "\u221219" in feedback and "chart-trend" in feedback


# --- different editions of the methodology ------------------------------------------------------------------------------


@pytest.fixture
def across_editions(world, methodology):
    """A 2026 campaign of a new edition (1.1.1 and 1.1.2 re-weighted, 1.1.3 with no counterpart) following a
    published 2023 campaign of the 2020 methodology."""
    edition = new_edition(methodology)
    CriterionMapping.objects.create(source=criterion(methodology, "1.1.3"), target=None)
    previous = earlier_campaign(world, methodology)
    today = timezone.localdate()
    current = campaign_save(
        campaign=Campaign(
            slug="edition-2026", title="Новая редакция", year=2026, methodology=edition, previous=previous
        ),
        stages=dict.fromkeys(Stage, (today - timedelta(days=30), today + timedelta(days=30))),
        municipalities=[world.municipality, world.sibling, world.other_municipality],
        by=world.users["operator"],
    )
    finalize(current, {"kirov": 281, "kumeny": 136, "elista": 136}, world.users["operator"])
    # Kirov loses the points of 1.1.1, which has no comparable counterpart: its total falls, the comparison does not.
    Score.objects.filter(
        submission__campaign=current, submission__municipality__code="kirov", criterion__code="1.1.1"
    ).update(points=0)
    results_compute(campaign=current)
    cache.clear()
    return current


def _final(campaign, code, criteria):
    return sum(
        Score.objects.filter(
            submission__campaign=campaign,
            submission__municipality__code=code,
            round="final",
            criterion__code__in=criteria,
        ).values_list("points", flat=True)
    )


def test_across_editions_totals_compare_on_comparable_criteria_only(across_editions, world, as_role):
    compared = [
        c
        for c in Criterion.objects.filter(mechanism__methodology=across_editions.methodology).values_list(
            "code", flat=True
        )
        if c not in ("1.1.1", "1.1.2", "1.1.3")
    ]
    expected = _final(across_editions, "kirov", compared) - _final(across_editions.previous, "kirov", compared)

    body = as_role(world, "organizer").get(reverse("api-ranking", args=[across_editions.slug])).json()
    page = as_role(world, "organizer").get(reverse("ranking", args=[across_editions.slug])).content.decode()
    scorecard = as_role(world, "organizer").get(reverse("scorecard", args=[across_editions.slug, "kirov"]))

    kirov = next(r for r in body["results"] if r["municipality"]["code"] == "kirov")
    assert kirov["previous_total"] == 300 and kirov["change"]["comparable_only"] is True
    now = Result.objects.get(campaign=across_editions, municipality__code="kirov").total
    assert kirov["change"]["total"] == expected and expected != now - 300
    assert "78" in page and "ranking-compared" in page  # the page says on how many criteria it compares
    rows = scorecard.context["comparison"]["criteria"]
    assert rows["1.1.3"].source is None and rows["1.1.1"].source is None and rows["1.1.4"].source == "1.1.4"
    html = scorecard.content.decode()
    assert gettext("no counterpart") in html and "unpaired" in html


# --- scale: the same number of queries for many municipalities ------------------------------------------------------------


def _grow(world, campaigns, n, methodologies):
    """`n` more municipalities finalized in each of `campaigns` (scores, results): in bulk."""
    municipalities = Municipality.objects.bulk_create(
        Municipality(region=world.region, code=f"more-{i:03d}", name=f"Муниципалитет {i:03d}") for i in range(n)
    )
    operator = world.users["operator"]
    for campaign, methodology in zip(campaigns, methodologies, strict=True):
        Participation.objects.bulk_create(Participation(campaign=campaign, municipality=m) for m in municipalities)
        submissions = Submission.objects.bulk_create(
            Submission(campaign=campaign, municipality=m, status=Submission.Status.FINALIZED) for m in municipalities
        )
        criteria = list(Criterion.objects.filter(mechanism__methodology=methodology))
        Score.objects.bulk_create(
            (
                Score(
                    submission=s,
                    criterion=c,
                    round=Score.Round.FINAL,
                    points=(i + c.pk) % (c.max_points + 1),
                    by=operator,
                )
                for i, s in enumerate(submissions)
                for c in criteria
            ),
            batch_size=2000,
        )
        results_compute(campaign=campaign)
    cache.clear()


def _count(client, url, params, django_assert_max_num_queries, limit=60):
    cache.clear()
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("edition", [False, True], ids=["same-methodology", "across-editions"])
def test_the_ranking_with_changes_takes_as_many_queries_for_many_municipalities(
    request, world, methodology, as_role, django_assert_max_num_queries, edition
):
    campaign = request.getfixturevalue("across_editions" if edition else "followed")
    client = as_role(world, "ministry")
    page, api = reverse("ranking", args=[campaign.slug]), reverse("api-ranking", args=[campaign.slug])
    cases = [(page, {}), (page, {"change": "improved"}), (api, {}), (api, {"change": "worsened"})]
    few = [_count(client, url, params, django_assert_max_num_queries) for url, params in cases]

    _grow(world, [campaign.previous, campaign], 60, [campaign.previous.methodology, campaign.methodology])
    many = [_count(client, url, params, django_assert_max_num_queries) for url, params in cases]

    assert many == few, f"queries at 3 and at 63 municipalities: {few} → {many}"

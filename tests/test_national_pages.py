"""Pages whose scope is the whole country: beyond LISTED_MUNICIPALITIES they show regions, each linking to the
region's own page, instead of 2,400 municipalities (a megabyte of HTML and 0.4 s of the server per view)."""

import pytest
from django.urls import reverse

from assessment.models import Participation, Submission
from municipalities.models import LISTED_MUNICIPALITIES, Municipality
from tests.factories import SchoolFactory
from tests.test_dynamics import followed  # noqa: F401


@pytest.fixture
def crowded(campaign, world):
    """The campaign with more municipalities in the Kirov region than a page lists: two in three still drafts."""
    added = Municipality.objects.bulk_create(
        Municipality(region=world.region, code=f"crowd-{i:03d}", name=f"Муниципалитет {i:03d}")
        for i in range(LISTED_MUNICIPALITIES)
    )
    Participation.objects.bulk_create(Participation(campaign=campaign, municipality=m) for m in added)
    Submission.objects.bulk_create(
        Submission(campaign=campaign, municipality=m, status="submitted" if i % 3 == 0 else "draft")
        for i, m in enumerate(added)
    )
    SchoolFactory(municipality=added[0])
    return campaign


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_campaign_of_the_whole_country_shows_its_regions_counted_by_state(crowded, world, client):
    html = _page(client, world.users["ministry"], reverse("campaign_detail", args=[crowded.slug]))

    assert "campaign-regions" in html
    assert reverse("region_progress", args=[crowded.slug, "43"]) in html
    assert reverse("submission_detail", args=[crowded.slug, "crowd-001"]) not in html
    kirov = Submission.objects.filter(campaign=crowded, municipality__region=world.region)
    drafts, sent = kirov.filter(status="draft").count(), kirov.filter(status="submitted").count()
    row = " ".join(html[html.index("Кировская область") :].split("</tr>")[0].split())
    assert f'<td class="text-end">{kirov.count()}</td>' in row
    assert f"</span> {drafts}</span>" in row and f"</span> {sent}</span>" in row
    assert len(html) < 60_000


def test_a_campaign_of_a_few_municipalities_lists_them(campaign, world, client):
    html = _page(client, world.users["ministry"], reverse("campaign_detail", args=[campaign.slug]))

    assert "campaign-regions" not in html
    assert reverse("submission_detail", args=[campaign.slug, "kirov"]) in html
    assert reverse("submission_detail", args=[campaign.slug, "elista"]) in html


def test_the_survey_overview_of_the_whole_country_shows_regions_only(crowded, world, client):
    national = _page(client, world.users["ministry"], reverse("survey_overview", args=[crowded.slug]))
    Submission.objects.filter(municipality__code__startswith="crowd-").delete()
    Participation.objects.filter(municipality__code__startswith="crowd-").delete()
    few = _page(client, world.users["ministry"], reverse("survey_overview", args=[crowded.slug]))

    assert reverse("survey_region", args=[crowded.slug, "43"]) in national
    assert reverse("survey_municipality", args=[crowded.slug, "crowd-000"]) not in national
    assert reverse("survey_municipality", args=[crowded.slug, "kirov"]) not in national
    assert reverse("survey_municipality", args=[crowded.slug, "kirov"]) in few


def test_the_overviews_charts_and_movers_are_made_once_per_results_version(followed, world, client):  # noqa: F811
    from django.core.cache import cache

    from assessment.models import Campaign, new_results_version

    cache.clear()
    url = reverse("ministry_dashboard", args=[followed.slug])
    before = _page(client, world.users["ministry"], url)
    Municipality.objects.filter(code="kirov").update(name="Город Киров (переименован)")
    cached = _page(client, world.users["ministry"], url)
    Campaign.objects.filter(pk=followed.pk).update(results_version=new_results_version())  # as a recompute does
    after = _page(client, world.users["ministry"], url)

    assert "movers-up" in before and "levels-before" in before
    assert cached == before.replace(_csrf(before), _csrf(cached))
    assert "Город Киров (переименован)" in after


def _csrf(html):
    """The masked CSRF token of the page's first form (a new mask on every response)."""
    marker = 'name="csrfmiddlewaretoken" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]

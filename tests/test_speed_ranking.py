"""Speed (issue 17 part 7, 2): the ranking page in six queries once its parts are cached — session, user,
appointments, the campaign (with the results version of it and of the campaign it follows), their stages, the
unread notifications — with and without a previous campaign, whatever the number of municipalities; the cache
never mixes what one viewer may see with what another may."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from assessment.models import Campaign, CampaignStage, Score, Stage
from assessment.results import results_compute
from reports import results
from tests.test_dynamics import _grow, _unpublish, earlier_campaign, followed  # noqa: F401

WARM = 6


def _count(client, url, params, django_assert_max_num_queries):
    with django_assert_max_num_queries(40) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return len(captured.captured_queries), response


QUERIES = [{}, {"page": "1"}, {"region": "43"}, {"sort": "name", "level": "partially_formed"}]


@pytest.mark.parametrize("previous", [False, True], ids=["alone", "with-previous"])
def test_the_ranking_page_takes_six_queries_for_few_and_many_municipalities(
    request, world, as_role, django_assert_num_queries, django_assert_max_num_queries, previous
):
    campaign = request.getfixturevalue("followed" if previous else "finalized")
    client = as_role(world, "ministry")
    url = reverse("ranking", args=[campaign.slug])
    queries = [*QUERIES, {"change": "improved"}] if previous else QUERIES
    cache.clear()
    cold_few = [_count(client, url, q, django_assert_max_num_queries)[0] for q in queries]
    for q in queries:
        with django_assert_num_queries(WARM):
            assert client.get(url, q).status_code == 200

    campaigns = [campaign.previous, campaign] if previous else [campaign]
    _grow(world, campaigns, 60, [c.methodology for c in campaigns])
    cold_many = [_count(client, url, q, django_assert_max_num_queries)[0] for q in queries]
    for q in queries:
        with django_assert_num_queries(WARM):
            response = client.get(url, q)
        assert response.status_code == 200

    assert cold_many == cold_few, f"cold queries at 3 and at 63 municipalities: {cold_few} → {cold_many}"
    assert max(cold_few) <= 16  # once per results version, query and language
    page = client.get(url).content.decode()
    assert "Муниципалитет 000" in page and ("ranking-compared" in page) is previous


def test_an_unknown_region_is_still_a_404_and_a_region_without_results_an_empty_page(finalized, world, as_role):
    from tests.factories import RegionFactory

    RegionFactory(code="99", name="Пустой регион")
    client = as_role(world, "ministry")
    url = reverse("ranking", args=[finalized.slug])

    assert client.get(url, {"region": "77"}).status_code == 404
    empty = client.get(url, {"region": "99"})
    assert empty.status_code == 200 and empty.context["total_count"] == 0
    assert "Пустой регион" in empty.content.decode()


def test_the_cached_page_follows_new_results(finalized, world, as_role):
    client = as_role(world, "ministry")
    url = reverse("ranking", args=[finalized.slug])
    before = client.get(url).content.decode()
    Score.objects.filter(submission__campaign=finalized, submission__municipality__code="elista").update(points=0)

    results_compute(campaign=finalized)
    after = client.get(url).content.decode()

    assert before.index("город Элиста") < before.index("город Киров") or "136" in before
    assert after != before and "<strong>0</strong>" in after


def _html(response):
    """The page without its CSRF tokens (new with every session)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_the_cached_parts_never_show_a_viewer_what_is_not_theirs(followed, world, as_role):  # noqa: F811
    _unpublish(followed.previous)  # the previous results: national roles only
    url = reverse("ranking", args=[followed.slug])

    ministry = _html(as_role(world, "ministry").get(url))
    organizer = _html(as_role(world, "organizer").get(url))
    organizer_filtered = as_role(world, "organizer").get(url, {"change": "improved"})
    ministry_again = _html(as_role(world, "ministry").get(url))

    assert "ranking-compared" in ministry and "Кампания 2023" in ministry
    assert "ranking-compared" not in organizer and "Кампания 2023" not in organizer and "+86" not in organizer
    assert organizer_filtered.status_code == 200 and organizer_filtered.context["total_count"] == 0
    assert ministry_again == ministry


def test_before_publication_the_cached_page_is_the_national_roles_alone(finalized, world, as_role):
    future = timezone.localdate() + timedelta(days=30)
    CampaignStage.objects.filter(campaign=finalized, stage=Stage.RESULTS).update(starts_on=future, ends_on=future)
    url = reverse("ranking", args=[finalized.slug])
    assert as_role(world, "ministry").get(url).status_code == 200  # cached now

    for role in ("coordinator", "organizer", "expert", "nobody"):
        assert as_role(world, role).get(url).status_code == 404, role


def test_the_version_read_with_the_campaign_is_the_version(followed, world):  # noqa: F811
    loaded = results.campaign_results_for(results.EVERY_SIGNED_IN, followed.slug)

    plain = Campaign.objects.get(pk=followed.pk)
    assert results.results_version(loaded) == results.results_version(plain)
    assert results.results_version(loaded.previous) == results.results_version(plain.previous)
    assert results.results_version(loaded) != results.results_version(loaded.previous)


def test_the_version_is_replaced_when_a_result_is_written_or_removed_and_only_then(followed):  # noqa: F811
    def version():
        return Campaign.objects.values_list("results_version", flat=True).get(pk=followed.pk)

    first = version()
    results_compute(campaign=followed)
    unchanged = version()
    submission = followed.submissions.filter(result__isnull=False).order_by("pk").first()
    type(submission).objects.filter(pk=submission.pk).update(status=type(submission).Status.RETURNED)
    results_compute(campaign=followed)
    removed = version()
    type(submission).objects.filter(pk=submission.pk).update(status=type(submission).Status.FINALIZED)
    results_compute(campaign=followed)
    written = version()

    assert unchanged == first
    assert len({first, removed, written}) == 3

"""Speed (issue 17 part 7, 4): survey submissions written in plain statements (a publication step rewritten in a
few statements, not a model object per row) keep their guarantees under real concurrent transactions: a link is
accepted once, and concurrent submissions of one group publish every response exactly once with all its answers
(without the group's lock they would not: tried)."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from surveys import services
from surveys.models import PUBLICATION_STEP, Invitation, Response, ResponseAnswer
from tests.factories import SchoolFactory
from tests.test_survey_trust import ROLE, _answers, _fields

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _together(posts):
    """Send the posts at the same moment, each from its own thread (and database connection): the statuses."""
    barrier = threading.Barrier(len(posts))
    statuses = [None] * len(posts)

    def send(i, url, data):
        try:
            barrier.wait()
            statuses[i] = Client().post(url, data).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, *post)) for i, post in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_a_link_sent_twice_at_once_is_accepted_once(survey_campaign, world):
    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role=ROLE)
    url = reverse("survey", args=[invitation.token])
    data = {"page": "1", "action": "submit", **_fields(_answers(survey_campaign, 1))}

    for _ in range(3):
        statuses = _together([(url, data)] * 4)
        assert sorted(statuses)[0] == 302 or set(statuses) == {409}, statuses
        assert statuses.count(302) <= 1

    assert Response.objects.filter(campaign=survey_campaign).count() == 1
    assert Invitation.objects.filter(campaign=survey_campaign, completed=True).count() == 1


def test_concurrent_submissions_of_a_group_publish_each_response_once_with_its_answers(survey_campaign, world):
    schools = [world.school] + [SchoolFactory(municipality=world.municipality) for _ in range(8)]
    services.invitations_create(campaign=survey_campaign)
    posts, expected = [], 0
    for i, school in enumerate(schools):
        invitation = Invitation.objects.get(campaign=survey_campaign, school=school, role=ROLE)
        fields = _fields(_answers(survey_campaign, i))
        expected += sum(len(v) if isinstance(v, list) else 1 for k, v in fields.items() if k.startswith("q-"))
        posts.append((reverse("survey", args=[invitation.token]), {"page": "1", "action": "submit", **fields}))

    statuses = _together(posts)

    assert statuses == [302] * len(schools)
    group = Response.objects.filter(campaign=survey_campaign, municipality=world.municipality, role=ROLE)
    assert group.count() == len(schools)  # none lost, none doubled
    published = group.filter(release__isnull=False)
    assert published.count() >= len(schools) - (PUBLICATION_STEP - 1)
    assert all(r.answers.exists() and r.pending is None for r in published)  # none published without answers
    waiting = group.filter(release__isnull=True)
    assert all(r.pending and not r.answers.exists() for r in waiting)  # waiting: the answers kept in the response
    rows = ResponseAnswer.objects.filter(response__in=group).count() + sum(len(r.pending) for r in waiting)
    assert rows == expected
    steps = {}
    for release in published.values_list("release", flat=True):
        steps[release] = steps.get(release, 0) + 1
    assert all(n >= PUBLICATION_STEP for n in steps.values()), steps

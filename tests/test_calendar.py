"""Calendars: the campaign's stages as an .ics file for its participants, and a person's own deadlines at a secret
address for calendar apps (no session), re-checked against their appointments at every fetch. Checked by the
rules of RFC 5545 on the raw text and by parsing it back with the icalendar library."""

from datetime import date, timedelta

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar.parser import unescape_backslash

from assessment.models import CampaignStage, Measure, MeasurePlan, ReviewAssignment, Stage, Submission
from municipalities import ical
from municipalities import notifications as notices
from municipalities.models import Appointment, CalendarFeed, Role
from tests.factories import AppointmentFactory, UserFactory

SITE = "https://muko.example.ru"
HOST = "muko.example.ru"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def parse(response):
    return icalendar.Calendar.from_ical(response.content)


def events_of(response):
    return {str(e["UID"]): e for e in parse(response).walk("VEVENT")}


def assert_rfc5545_text(raw):
    """CRLF line ends only, every line at most 75 octets, folding never inside a UTF-8 character."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a split character would not decode


# --- the format -----------------------------------------------------------------------------------------------


def test_text_values_are_escaped():
    assert ical.escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    assert ical.escape_text("tab\tkept, bell\x07 and nul\x00 dropped") == "tab\tkept\\, bell and nul dropped"


@pytest.mark.parametrize("prefix", ["", "S", "SU", "SUM"])
@pytest.mark.parametrize("text", ["Сбор информации о механизмах управления качеством образования " * 4, "😀ё" * 60])
def test_folding_keeps_lines_within_75_octets_and_characters_whole(prefix, text):
    line = f"{prefix}SUMMARY:{text}"

    folded = ical.fold(line)

    physical = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line  # unfolding gives the line back
    assert ical.fold("SHORT:line") == "SHORT:line"


def test_a_calendar_parses_back_with_what_was_put_in():
    event = ical.Event(
        uid="test-2026-data_collection@muko.example.ru",
        summary="Сбор данных; приём форм, проверка \\ итог",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 15),
        description="Первая строка\nВторая, с запятой; и точкой с запятой",
        url="https://muko.example.ru/campaigns/test-2026/",
    )
    now = timezone.make_aware(timezone.datetime(2026, 2, 1, 9, 30))

    text = ical.calendar([event], name="Кампания, 2026", now=now)

    assert_rfc5545_text(text.encode())
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["VERSION"]) == "2.0"
    # NAME (RFC 7986) and X-WR-CALNAME are TEXT; the library hands calendar-level ones over unparsed.
    assert unescape_backslash(str(calendar["NAME"])) == "Кампания, 2026"
    assert unescape_backslash(str(calendar["X-WR-CALNAME"])) == "Кампания, 2026"
    (parsed,) = calendar.walk("VEVENT")
    assert str(parsed["UID"]) == event.uid
    assert str(parsed["SUMMARY"]) == event.summary
    assert str(parsed["DESCRIPTION"]) == event.description
    assert parsed["DTSTART"].dt == date(2026, 3, 1)
    assert parsed["DTEND"].dt == date(2026, 3, 16)  # the day after the last: all-day events end exclusive
    assert parsed["DTSTAMP"].dt == now
    assert "DTSTAMP:20260201T063000Z\r\n" in text  # UTC


def test_the_file_name_is_plain_ascii():
    assert ical.ascii_filename("muko-test-2026.ics") == "muko-test-2026.ics"
    assert ical.ascii_filename('кампания "2026".ics') == "2026-.ics"
    assert ical.ascii_filename("ё") == "calendar.ics"


# --- the campaign's calendar ---------------------------------------------------------------------------------------


def test_the_campaign_calendar_has_every_stage_with_stable_uids(campaign, world, client, django_assert_num_queries):
    CampaignStage.objects.filter(campaign=campaign, stage=Stage.DATA_COLLECTION).update(
        title="Сбор данных муниципалитетов; приём форм, анализ \\ итог (очень длинное название этапа)"
    )
    client.force_login(world.users["organizer"])
    url = reverse("campaign_calendar", args=[campaign.slug])

    with django_assert_num_queries(5):  # session, user, appointments, the campaign, its stages
        response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="muko-test-2026.ics"'
    assert_rfc5545_text(response.content)
    events = events_of(response)
    assert set(events) == {f"test-2026-{stage}@{HOST}" for stage in Stage.values}
    collection = events[f"test-2026-data_collection@{HOST}"]
    assert str(collection["SUMMARY"]).startswith("Сбор данных муниципалитетов; приём форм, анализ \\ итог")
    assert "Тестовая кампания" in str(collection["SUMMARY"])
    assert str(collection["URL"]) == f"{SITE}/campaigns/test-2026/"
    assert "DTSTAMP" in collection
    surveys = events[f"test-2026-surveys@{HOST}"]
    assert str(surveys["SUMMARY"]) == "Опросы школ — Тестовая кампания"
    assert set(events_of(client.get(url))) == set(events)  # the same UIDs every time


@pytest.mark.parametrize(("role", "status"), [("nobody", 404), ("anonymous", 302), ("expert", 200)])
def test_the_campaign_calendar_is_scoped_like_the_campaign(role, status, campaign, world, as_role):
    assert as_role(world, role).get(reverse("campaign_calendar", args=[campaign.slug])).status_code == status


def test_the_campaign_page_links_to_both_calendars(campaign, world, client):
    client.force_login(world.users["organizer"])

    page = client.get(reverse("campaign_detail", args=[campaign.slug])).content.decode()

    assert reverse("campaign_calendar", args=[campaign.slug]) in page
    assert f"{reverse('notification_settings')}#calendar" in page
    assert "Добавить в календарь" in page


# --- the personal feed ---------------------------------------------------------------------------------------------


def feed_client():
    """A calendar app: no session, no cookie."""
    return Client()


def _feed_url(user):
    return reverse("calendar_feed", args=[notices.calendar_feed_issue(user=user).key])


def _stage(campaign, stage, starts_on, ends_on):
    CampaignStage.objects.filter(campaign=campaign, stage=stage).update(starts_on=starts_on, ends_on=ends_on)


def test_an_organizer_gets_the_forms_deadline_with_its_extension_the_appeals_and_open_measures(
    campaign, world, django_assert_num_queries
):
    today = timezone.localdate()
    _stage(campaign, Stage.DATA_COLLECTION, today - timedelta(days=10), today + timedelta(days=5))
    _stage(campaign, Stage.APPEALS, today + timedelta(days=40), today + timedelta(days=45))
    plan = MeasurePlan.objects.create(
        campaign=campaign, municipality=world.municipality, created_by=world.users["organizer"]
    )
    open_measure, done_measure = (
        Measure.objects.create(
            plan=plan,
            title=title,
            responsible="Иванова",
            due_on=today + timedelta(days=90),
            expected_result="x",
            indicator="x",
            status=status,
        )
        for title, status in (("Семинар для директоров, этап 1", "planned"), ("Готово", "done"))
    )
    url = _feed_url(world.users["organizer"])

    response = feed_client().get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert not response.cookies
    assert_rfc5545_text(response.content)
    events = events_of(response)
    due = events[f"test-2026-kirov-forms-due@{HOST}"]
    assert str(due["SUMMARY"]) == "Срок сдачи форм: город Киров"
    assert due["DTSTART"].dt == today + timedelta(days=5)
    assert str(due["URL"]) == f"{SITE}/campaigns/test-2026/m/kirov/"
    appeals = events[f"test-2026-kirov-appeals@{HOST}"]
    assert (appeals["DTSTART"].dt, appeals["DTEND"].dt) == (today + timedelta(days=40), today + timedelta(days=46))
    assert f"test-2026-kirov-measure-{open_measure.pk}@{HOST}" in events
    assert f"test-2026-kirov-measure-{done_measure.pk}@{HOST}" not in events
    assert not any("kumeny" in uid or "elista" in uid for uid in events)  # not their municipalities

    # An extension moves the same event (same UID): the calendar app updates it instead of adding another.
    Submission.objects.filter(campaign=campaign, municipality=world.municipality).update(
        deadline_extended_to=today + timedelta(days=12)
    )
    with django_assert_num_queries(5):  # the feed and its user, appointments, submissions, stages, measures
        moved = events_of(feed_client().get(url))[f"test-2026-kirov-forms-due@{HOST}"]
    assert moved["DTSTART"].dt == today + timedelta(days=12)
    assert "продлён" in str(moved["DESCRIPTION"])


def test_the_feed_does_not_query_per_campaign_or_submission(campaign, world, methodology, django_assert_num_queries):
    from assessment.models import Campaign
    from assessment.services import campaign_save

    organizer = world.users["organizer"]
    for year in (2027, 2028, 2029):
        campaign_save(
            campaign=Campaign(slug=f"test-{year}", title=f"Кампания {year}", year=year, methodology=methodology),
            stages={stage: (date(year, 3, 1), date(year, 4, 1)) for stage in Stage},
            municipalities=[world.municipality, world.sibling],
            by=world.users["operator"],
        )
    Appointment.objects.create(user=organizer, role=Role.DEPUTY_ORGANIZER, municipality=world.sibling)
    url = _feed_url(organizer)

    with django_assert_num_queries(5):
        events = events_of(feed_client().get(url))

    assert len([uid for uid in events if "-forms-due@" in uid]) == 4 * 2  # kirov and kumeny in four campaigns


def test_an_organizer_removed_from_the_municipality_gets_an_empty_feed(campaign, world):
    organizer = world.users["organizer"]
    url = _feed_url(organizer)
    assert events_of(feed_client().get(url))

    Appointment.objects.filter(user=organizer).update(is_active=False)
    response = feed_client().get(url)

    assert response.status_code == 200
    assert events_of(response) == {}


def test_a_revoked_or_replaced_address_is_a_404_and_so_is_a_deactivated_account(campaign, world):
    organizer = world.users["organizer"]
    first = _feed_url(organizer)
    second = _feed_url(organizer)  # issued again: the first stops working

    assert feed_client().get(first).status_code == 404
    assert feed_client().get(second).status_code == 200
    assert CalendarFeed.objects.filter(user=organizer, revoked_at__isnull=True).count() == 1

    organizer.is_active = False
    organizer.save()
    assert feed_client().get(second).status_code == 404
    organizer.is_active = True
    organizer.save()

    assert notices.calendar_feed_revoke(user=organizer) is True
    assert feed_client().get(second).status_code == 404
    assert feed_client().get(reverse("calendar_feed", args=["x" * 300])).status_code == 404
    assert feed_client().post(second).status_code == 405


def test_an_expert_gets_each_open_review_due(campaign, world):
    expert = world.users["expert"]
    today = timezone.localdate()
    _stage(campaign, Stage.EXPERT_REVIEW, today, today + timedelta(days=20))
    kirov, elista = (campaign.submissions.get(municipality=m) for m in (world.municipality, world.other_municipality))
    Submission.objects.filter(pk__in=[kirov.pk, elista.pk]).update(status=Submission.Status.IN_REVIEW)
    operator = world.users["operator"]
    ReviewAssignment.objects.create(submission=kirov, expert=expert, assigned_by=operator, due_on=today + timedelta(3))
    done = ReviewAssignment.objects.create(submission=elista, expert=expert, assigned_by=operator)
    url = _feed_url(expert)

    events = events_of(feed_client().get(url))

    review = events[f"test-2026-kirov-review@{HOST}"]
    assert review["DTSTART"].dt == today + timedelta(days=3)
    assert str(review["SUMMARY"]) == "Срок проверки: город Киров"
    assert str(review["URL"]) == f"{SITE}/campaigns/test-2026/m/kirov/expert/"
    assert events[f"test-2026-elista-review@{HOST}"]["DTSTART"].dt == today + timedelta(days=20)  # the stage's end

    ReviewAssignment.objects.filter(pk=done.pk).update(completed_at=timezone.now())
    assert f"test-2026-elista-review@{HOST}" not in events_of(feed_client().get(url))


def test_a_coordinator_gets_the_stages_of_the_region(campaign, world):
    today = timezone.localdate()
    _stage(campaign, Stage.DATA_COLLECTION, today - timedelta(days=10), today + timedelta(days=5))

    events = events_of(feed_client().get(_feed_url(world.users["coordinator"])))

    assert set(events) == {f"test-2026-{s}-43@{HOST}" for s in ("data_collection", "surveys", "prescoring")}
    due = events[f"test-2026-data_collection-43@{HOST}"]
    assert due["DTSTART"].dt == today + timedelta(days=5)
    assert str(due["SUMMARY"]) == "Срок сдачи форм в регионе: Кировская область"
    assert str(events[f"test-2026-prescoring-43@{HOST}"]["SUMMARY"]).endswith(": Кировская область")


@pytest.mark.parametrize("role", ["operator", "ministry"])
def test_national_roles_get_every_campaigns_stages(role, campaign, world):
    events = events_of(feed_client().get(_feed_url(world.users[role])))

    assert set(events) == {f"test-2026-{stage}@{HOST}" for stage in Stage.values}


def test_someone_without_a_role_gets_an_empty_calendar(campaign, world):
    response = feed_client().get(_feed_url(world.users["nobody"]))

    assert response.status_code == 200
    assert events_of(response) == {}
    assert str(parse(response)["NAME"]) == "МУКО: мои сроки"


def test_the_feed_is_russian_whatever_the_app_asks(campaign, world):
    response = feed_client().get(_feed_url(world.users["organizer"]), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert "Срок сдачи форм" in response.content.decode()


# --- the settings page -----------------------------------------------------------------------------------------------


def test_the_address_is_issued_renewed_and_turned_off_on_the_settings_page(campaign, world, client):
    organizer = world.users["organizer"]
    client.force_login(organizer)
    settings_url = reverse("notification_settings")

    before = client.get(settings_url).content.decode()
    issued = client.post(reverse("calendar_feed_new"), follow=True)
    first = CalendarFeed.objects.get(user=organizer)
    renewed = client.post(reverse("calendar_feed_new"), follow=True)
    second = CalendarFeed.objects.get(user=organizer, revoked_at__isnull=True)
    off = client.post(reverse("calendar_feed_revoke"), follow=True)

    assert "Добавить в календарь" in before and "Получить адрес календаря" in before
    assert issued.redirect_chain[-1][0] == f"{settings_url}#calendar"
    page = issued.content.decode()
    assert f"{SITE}/calendar/{first.key}.ics" in page and f"webcal://{HOST}/calendar/{first.key}.ics" in page
    assert "Яндекс" in page and "Outlook" in page and "Google" in page
    assert "no-store" in issued["Cache-Control"] or "no-cache" in issued["Cache-Control"]
    assert second.key != first.key and first.key not in renewed.content.decode()
    assert feed_client().get(reverse("calendar_feed", args=[first.key])).status_code == 404
    assert "старый больше не работает" in renewed.content.decode()
    assert not CalendarFeed.objects.filter(user=organizer, revoked_at__isnull=True).exists()
    assert feed_client().get(reverse("calendar_feed", args=[second.key])).status_code == 404
    assert "отключён" in off.content.decode()


def test_one_cannot_touch_someone_elses_address(campaign, world, client):
    theirs = notices.calendar_feed_issue(user=world.users["deputy"])
    client.force_login(world.users["organizer"])

    client.post(reverse("calendar_feed_revoke"))
    client.post(reverse("calendar_feed_new"))

    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert theirs.key not in client.get(reverse("notification_settings")).content.decode()


def test_a_user_with_two_roles_gets_each_event_once(campaign, world):
    user = UserFactory(username="t-two-hats")
    AppointmentFactory(user=user, role=Role.ORGANIZER, municipality=world.municipality)
    AppointmentFactory(user=user, role=Role.DEPUTY_ORGANIZER, municipality=world.municipality)

    response = feed_client().get(_feed_url(user))

    uids = [str(e["UID"]) for e in parse(response).walk("VEVENT")]
    assert len(uids) == len(set(uids)) == 2  # the forms and the appeals of kirov

"""The calendar links and the one-click unsubscribe in Chromium: the campaign page's calendar file, the settings
page that issues the secret address (which then opens without a session), and the unsubscribe page that asks first.
Screenshots: tests/screenshots/calendar-*.png and unsubscribe-*.png."""

from pathlib import Path

import pytest
from django.urls import reverse

from municipalities.mail import unsubscribe_token
from municipalities.models import CalendarFeed, NotificationSettings

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login(page, live_server, username):
    page.goto(f"{live_server.url}{reverse('login')}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("correct-horse-9")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def test_the_organizer_adds_the_campaign_and_subscribes_to_their_deadlines(page, browser, live_server, campaign, world):
    login(page, live_server, world.users["organizer"].username)

    page.goto(f"{live_server.url}{reverse('campaign_detail', args=[campaign.slug])}")
    link = page.locator(f"a[href='{reverse('campaign_calendar', args=[campaign.slug])}']")
    assert link.is_visible()
    shot(page, "calendar-campaign")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "muko-test-2026.ics"

    page.goto(f"{live_server.url}{reverse('notification_settings')}#calendar")
    page.locator(f"form[action='{reverse('calendar_feed_new')}'] button").click()
    page.wait_for_selector("#calendar-url")
    shot(page, "calendar-settings")
    address = page.locator("#calendar-url").input_value()
    feed = CalendarFeed.objects.get(user=world.users["organizer"], revoked_at__isnull=True)
    assert address.endswith(reverse("calendar_feed", args=[feed.key]))
    assert not page.console_errors, page.console_errors

    app = browser.new_context()  # a calendar app: no session
    fetched = app.request.get(f"{live_server.url}{reverse('calendar_feed', args=[feed.key])}")
    assert fetched.status == 200 and fetched.headers["content-type"] == "text/calendar; charset=utf-8"
    assert b"BEGIN:VEVENT" in fetched.body()
    app.close()


def test_the_unsubscribe_page_asks_then_turns_the_kind_off(page, live_server, world):
    organizer = world.users["organizer"]
    url = f"{live_server.url}{reverse('unsubscribe', args=[unsubscribe_token(organizer.pk, 'deadline')])}"

    page.goto(url)
    shot(page, "unsubscribe-confirm")
    assert not NotificationSettings.objects.filter(user=organizer).exists()
    page.locator(".card form[method=post] button[type=submit]").click()
    page.wait_for_load_state()
    shot(page, "unsubscribe-done")

    assert "deadline" in NotificationSettings.objects.get(user=organizer).email_off
    assert not page.console_errors, page.console_errors

"""Every role's home on the demo data, at 1280 px and on a 360 px phone (issue 18): the first screen shows the role's
main job (the lead card starts within the window), nothing scrolls sideways, not even inside a card. Screenshots:
tests/screenshots/home-<role>-desktop.png and home-<role>-phone.png, for a person to look at."""

import pytest

from tests.test_browser import login, shot

pytestmark = pytest.mark.browser

DEVICES = {
    "desktop": {"locale": "ru-RU", "viewport": {"width": 1280, "height": 800}},
    "phone": {"locale": "ru-RU", "viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}
# (user, the lead card that must start on the first screen, the role's main action inside it)
HOMES = [
    ("operator", ".lead-card", "a[href='/campaigns/2026/experts/']"),
    ("ministry", ".lead-results", "a[href='/campaigns/2023/results/']"),
    ("coordinator-43", ".lead-card", "a[href='/campaigns/2026/m/kumeny/scoring/']"),
    ("organizer-lagan", ".lead-form", ".lead-corrections a"),
    ("organizer-kirov", ".lead-form", "a[href='/campaigns/2026/m/kirov/']"),
    ("deputy-kirov", ".lead-form", "a[href='/campaigns/2026/m/kirov/']"),
    ("expert-1", ".lead-card", "a[href='/campaigns/2026/m/yashalta/expert/']"),
]
SIDEWAYS = """() => [...document.querySelectorAll('main *')].filter(e => {
  const s = getComputedStyle(e);
  return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1;
}).map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"""


def test_every_home_shows_the_main_job_on_the_first_screen(browser, live_server, demo):
    problems = []
    for device, options in DEVICES.items():
        context = browser.new_context(**options, reduced_motion="reduce")
        page = context.new_page()
        errors = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        for username, lead, action in HOMES:
            context.clear_cookies()
            login(page, live_server, username)
            page.wait_for_selector("main h1")
            shot(page, f"home-{username}-{device}")
            height = options["viewport"]["height"]
            box = page.locator(lead).first.bounding_box()
            if box is None or box["y"] > height * 0.6:
                problems.append(f"{device} {username}: the lead {lead} starts at {box and box['y']} px")
            target = page.locator(f"{lead} {action}").first
            if not target.count() or not target.is_visible():
                problems.append(f"{device} {username}: no {action} in the lead")
            if device == "phone":
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 360:
                    problems.append(f"phone {username}: the page is {width} px wide")
                sideways = page.evaluate(SIDEWAYS)
                if sideways:
                    problems.append(f"phone {username}: scrolls sideways inside {sideways[:3]}")
        if errors:
            problems.append(f"{device}: console errors {errors}")
        context.close()
    assert not problems, "\n".join(problems)

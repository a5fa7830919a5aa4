"""Each role's main path in headless Chromium (Debian's package), driven by Playwright.

Screenshots go to tests/screenshots/ for a person to look at."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1360, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", verbosity=0)


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login(page, live_server, username, password="demo12345"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Логин").fill(username)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


def test_coordinator_logs_in_and_sees_the_dashboard_in_russian(page, live_server, demo, settings):
    settings.DEMO = True
    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "login")

    login(page, live_server, "coordinator-43")

    page.wait_for_selector("text=Что сделать")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "Кировская область" in page.content()
    assert page.locator("text=город Киров").first.is_visible()
    shot(page, "dashboard-coordinator-43")
    assert not page.console_errors, page.console_errors  # no CSP violation, no missing asset


def test_organizer_reads_the_guidance_of_a_criterion(page, live_server, demo):
    login(page, live_server, "organizer-elista")
    page.wait_for_selector("text=Что сделать")
    shot(page, "dashboard-organizer-elista")

    page.get_by_role("link", name="Методика").first.click()
    page.get_by_role("button", name="1.2.2").click()

    panel = page.locator("#g-122")
    panel.wait_for(state="visible")
    assert "ШНОР" in panel.inner_text() or "низкими" in panel.inner_text()
    assert "555" in page.content()
    shot(page, "methodology")
    assert not page.console_errors, page.console_errors

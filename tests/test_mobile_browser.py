"""Phone, desktop and paper, in headless Chromium on the demo data.

At 360×740 (a phone, touch) and 1366×900 the dashboards of every role, the primary-data form, the survey, the
ranking and the scorecard: no horizontal scroll on the phone, the main action visible, large enough targets.
Then the scorecard, the ranking and a submission printed: no navigation, buttons or filters, each mechanism
kept whole. Screenshots: tests/screenshots/phone-*.png, desktop-*.png and print-*.png (PDF pages through
pdftoppm when poppler-utils is installed) for a person to look at."""

import shutil
import subprocess

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.test_browser import SCREENSHOTS, login

pytestmark = pytest.mark.browser

PHONE = {"locale": "ru-RU", "viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"locale": "ru-RU", "viewport": {"width": 1366, "height": 900}}
AXE = Axe()
# On the phone: targets large enough to tap (WCAG 2.2 AA, 24 px), zooming allowed, scrolled regions reachable.
PHONE_RULES = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "rule", "values": ["target-size", "meta-viewport", "scrollable-region-focusable"]},
}

# (name, user or None, path, the main action or content that must be visible)
PAGES = [
    ("dashboard-operator", "operator", "/", "main h1"),
    ("dashboard-coordinator", "coordinator-43", "/", "main h1"),
    ("notification-settings", "coordinator-43", "/accounts/notifications/settings/", "main form button"),
    ("import", "coordinator-43", "/campaigns/2026/regions/43/import/", "main form button[type=submit]"),
    ("dashboard-organizer", "organizer-kirov", "/", "main h1"),
    ("submission", "organizer-kirov", "/campaigns/2026/m/kirov/", "form[action$='/submit/'] button"),
    ("form", "organizer-kirov", "/campaigns/2026/m/kirov/mechanisms/1.1/", "#d-1\\.1\\.1"),
    ("notifications", "organizer-kirov", "/accounts/notifications/", ".list-group-item"),
    # a phone and a wider screen each have their own charts: the one shown
    ("scorecard", "organizer-kirov", "/campaigns/2020-approbation/results/m/kirov/", "svg[role=img]:visible"),
    ("dashboard-expert", "expert-1", "/", "main h1"),
    ("expert-scoring", "expert-1", "/campaigns/2026/m/yashalta/expert/", "#p-1\\.1\\.1"),
    ("dashboard-ministry", "ministry", "/", "main h1"),
    ("ranking", "ministry", "/campaigns/2020-approbation/results/", "table.ranking-table"),
    ("survey-intro", None, "survey", "button[name=action][value=next]"),
    ("survey-section", None, "survey?p=2", "button[name=action][value=next]"),
    ("survey-review", None, "survey?p=99", "button[name=action][value=submit]"),
]


def save(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def overflow(page):
    """The outermost elements that stick out past the window (what makes a page scroll sideways)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => {
             const out = el => el && el.getBoundingClientRect().right > innerWidth + 1;
             return out(e) && !out(e.parentElement);
           }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )


# Chromium draws a file input's «Choose File» in the browser's language: static/js/file-input.js puts the page's
# texts on each one (a label over the visually hidden input). None of the browser's own text may be left.
FILE_INPUTS = """() => [...document.querySelectorAll('input[type=file]')].map(input => {
  const label = input.closest('label.file-picker');
  return {label: label ? label.innerText.replace(/\\s+/g, ' ').trim() : null, hidden: input.matches('.btn-check'),
          named: label ? label.htmlFor === input.id : false};
})"""
# Nothing inside the page scrolls sideways on the phone's dashboards (a table in a card that scrolls is as bad).
SIDEWAYS = """() => [...document.querySelectorAll('main *')].filter(e => {
  const s = getComputedStyle(e);
  return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1;
}).map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"""


def file_input_texts():
    """The texts the file inputs must show: the catalogue's, in Russian once it is translated."""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("ru"):
        return gettext("Choose a file"), gettext("No file chosen")


def file_input_problems(page, where):
    choose, none = file_input_texts()
    problems = []
    for found in page.evaluate(FILE_INPUTS):
        if found["label"] != f"{choose} {none}" or not found["hidden"] or not found["named"]:
            problems.append(f"{where}: a file input shows {found}, not «{choose} {none}»")
    if choose != "Choose a file" and not any("\u0400" <= ch <= "\u04ff" for ch in choose):
        problems.append(f"{where}: «{choose}» is not Russian")
    return problems


def visit(context, live_server, token, device):
    """Every page of PAGES in one context (one login per role); returns the problems found."""
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    problems, user = [], "nobody"
    for name, username, path, main in PAGES:
        if username != user:
            context.clear_cookies()
            if username:
                login(page, live_server, username)
                page.wait_for_selector("main h1")
            user = username
        url = live_server.url + path.replace("survey", f"/s/{token}/")
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        page.wait_for_selector(main, state="attached")
        save(page, f"{device}-{name}")
        if not page.locator(main).first.is_visible():
            problems.append(f"{device} {name}: {main} is not visible")
        problems += file_input_problems(page, f"{device} {name}")
        if device == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 360:
                problems.append(f"phone {name}: scrollWidth {width} > 360: {overflow(page)}")
            if page.locator(".app-navbar").count():
                toggler = page.locator(".navbar-toggler")
                if not toggler.is_visible():
                    problems.append(f"phone {name}: the menu button is hidden")
            if name.startswith("dashboard") and (sideways := page.evaluate(SIDEWAYS)):
                problems.append(f"phone {name}: scrolls sideways inside {sideways[:3]}")
            for v in AXE.run(page, options=PHONE_RULES).response["violations"]:
                nodes = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
                problems.append(f"phone {name}: {v['id']} ({v['impact']}): {nodes}")
    ours = [e for e in errors if "favicon" not in e]
    if ours:
        problems.append(f"{device}: console errors {ours}")
    page.close()
    return problems


def test_phone_and_desktop_widths(browser, live_server, demo):
    from surveys.models import Invitation

    token = Invitation.objects.filter(campaign__slug="2026", completed=False, role="teacher").first().token
    problems = []
    for device, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**options, reduced_motion="reduce")
        try:
            problems += visit(context, live_server, token, device)
            if device == "phone":
                # The menu opens on the phone and every item in it can be reached.
                page = context.new_page()
                login(page, live_server, "coordinator-43")
                page.wait_for_selector("main h1")
                page.locator(".navbar-toggler").click()
                page.locator("#nav.show").wait_for()
                page.wait_for_timeout(400)
                assert page.locator("#nav").get_by_role("link", name="Кампании").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= 360
                save(page, "phone-menu-open")
                page.close()
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def pdf_pages(page, name):
    """The page as the browser prints it (A4), and its pages as PNGs when pdftoppm is installed."""
    pdf = SCREENSHOTS / f"print-{name}.pdf"
    page.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)  # A4 and margins: app.css
    for old in SCREENSHOTS.glob(f"print-{name}-page-*.png"):
        old.unlink()
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-l", "4", str(pdf), str(SCREENSHOTS / f"print-{name}-page")], check=True
        )
    return pdf


def printed(page, name):
    """Emulate print media; the navigation, buttons and filters must be gone."""
    page.emulate_media(media="print")
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('.app-navbar, .app-footer, .skip-link, .breadcrumb, main .btn, main form, .ranking-filters, .nav-tabs')]
             .filter(e => e.getClientRects().length).map(e => e.tagName + '.' + e.className)"""
    )
    assert not hidden, f"{name}: shown on paper: {hidden[:5]}"
    save(page, f"print-{name}")
    return pdf_pages(page, name)


def test_printing_the_scorecard_the_ranking_and_a_submission(browser, live_server, demo):
    context = browser.new_context(locale="ru-RU", viewport={"width": 794, "height": 1123})
    page = context.new_page()
    try:
        login(page, live_server, "coordinator-43")
        page.wait_for_selector("main h1")

        page.goto(f"{live_server.url}/campaigns/2020-approbation/results/m/kirov/")
        page.wait_for_selector("svg[role=img]")
        details = page.locator("details.mechanism-detail")
        assert details.count() >= 5
        printed(page, "scorecard")
        styles = page.evaluate(
            """() => [...document.querySelectorAll('details.mechanism-detail')].map(d => {
                 const s = getComputedStyle(d); const table = d.querySelector('table');
                 return {before: s.breakBefore, inside: s.breakInside, table: table.checkVisibility() && table.getBoundingClientRect().height > 50};
               })"""
        )
        assert all(s["table"] for s in styles), "a closed mechanism is not printed"
        assert all(s["inside"] in ("avoid", "avoid-page") for s in styles), styles
        assert all(s["before"] == "page" for s in styles[1:]), styles  # each mechanism starts a page
        page.emulate_media(media="screen")

        page.goto(f"{live_server.url}/campaigns/2020-approbation/results/?region=43")
        page.wait_for_selector("table.ranking-table")
        printed(page, "ranking")
        head = page.evaluate("getComputedStyle(document.querySelector('.ranking-table thead')).display")
        assert head == "table-header-group", head  # the header row repeats on every page
        page.emulate_media(media="screen")

        page.goto(f"{live_server.url}/campaigns/2020-approbation/m/kirov/")
        page.wait_for_selector("main h1")
        printed(page, "submission")
        starts = page.evaluate(
            """() => [...document.querySelectorAll('.explanation tbody tr')]
                 .filter(tr => getComputedStyle(tr).breakBefore === 'page').map(tr => tr.id)"""
        )
        assert starts == ["x-1.2.1", "x-1.3.1", "x-1.4.1", "x-2.1.1", "x-2.2.1", "x-2.3.1", "x-2.4.1", "x-2.5.1"], (
            starts
        )
    finally:
        context.close()

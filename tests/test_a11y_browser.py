"""Accessibility in headless Chromium: axe-core (axe-playwright-python) on the main page of every role, and
the keyboard: a skip link first, a visible focus, forms filled and sent without a mouse, no focus trap.

Serious and critical axe violations fail the test; moderate and minor ones are printed for a person to read.
A page with a blocking violation is saved as tests/screenshots/a11y-failed-<page>.png; the keyboard tests
save tests/screenshots/a11y-keyboard-*.png."""

import re
import warnings

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from tests.test_browser import fill_all_but, login, shot

pytestmark = pytest.mark.browser

AXE = Axe()
# WCAG 2.1 A and AA and the best practices (landmarks, headings, skip link): what issue 8 asks for.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
}
BLOCKING = {"serious", "critical"}


def axe_violations(page):
    """The violations axe finds on the page as it is now: (blocking, other), each a list of readable lines."""
    results = AXE.run(page, options=AXE_OPTIONS).response
    blocking, other = [], []
    for v in results["violations"]:
        lines = [f"{page.url} — {v['id']} ({v['impact']}): {v['help']}"]
        for node in v["nodes"][:6]:
            messages = [m["message"] for key in ("any", "all", "none") for m in node.get(key, [])]
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            lines += [f"        {m}" for m in messages[:2]]
        if len(v["nodes"]) > 6:
            lines.append(f"    … and {len(v['nodes']) - 6} more")
        (blocking if v["impact"] in BLOCKING else other).append("\n".join(lines))
    return blocking, other


class Audit:
    """Visits pages, runs axe on each and keeps what it found, so that one test reports every page at once."""

    def __init__(self, page, live_server):
        self.page, self.base = page, live_server.url
        self.blocking, self.other, self.visited = [], [], []

    def check(self, path, name, expect_status=200, wait=None):
        response = self.page.goto(self.base + path)
        assert response.status == expect_status, f"{path}: {response.status}"
        if wait:
            self.page.wait_for_selector(wait)
        self.here(name)

    def here(self, name):
        self.page.wait_for_load_state("load")
        blocking, other = axe_violations(self.page)
        if blocking:  # a picture of the page at fault, for the person fixing it
            shot(self.page, f"a11y-failed-{name}")
        self.blocking += blocking
        self.other += other
        self.visited.append(name)

    def verdict(self):
        if self.other:
            warnings.warn("moderate and minor axe findings:\n" + "\n".join(self.other), stacklevel=2)
        assert not self.blocking, "Serious or critical axe violations:\n" + "\n".join(self.blocking)


def logout(page, live_server):
    page.context.clear_cookies()


def assert_charts_have_text_and_a_table(page):
    """Every chart is an image with a name, and its card offers the same figures as a table."""
    charts = page.evaluate(
        """() => [...document.querySelectorAll('main svg')].map(svg => {
             const ids = (svg.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
             const name = svg.getAttribute('aria-label') || ids.map(i => document.getElementById(i)?.textContent || '').join(' ');
             const card = svg.closest('.card, section') || svg.parentElement;
             return {role: svg.getAttribute('role'), name: name.trim(), table: !!card.querySelector('details table, table')};
           })"""
    )
    assert charts, f"no chart on {page.url}"
    for chart in charts:
        assert chart["role"] == "img" and chart["name"] and chart["table"], (page.url, chart)


def test_axe_finds_nothing_serious_on_the_main_pages_of_every_role(page, live_server, demo):
    from reports.models import ReportJob
    from surveys.models import Invitation

    audit = Audit(page, live_server)

    # Anonymous: login, password reset, a page that does not exist, the school survey.
    audit.check("/accounts/login/", "login")
    audit.check("/accounts/password/reset/", "password-reset")
    audit.check("/no-such-page/", "404", expect_status=404)
    invitation = Invitation.objects.filter(campaign__slug="2026", completed=False, role="teacher").first()
    survey = f"/s/{invitation.token}/"
    audit.check(survey, "survey-intro")
    audit.check(survey + "?p=1", "survey-section", wait="#survey-form")
    page.locator("button[name=action][value=next]").click()  # an empty section: required questions named
    page.wait_for_load_state("load")
    audit.here("survey-section-errors")
    audit.check(survey + "?p=99", "survey-review")
    audit.check(reverse("api-docs"), "api-docs")  # its code samples wrap: no scrolled box out of the keyboard's reach

    # Operator: dashboard, campaigns, methodology, people, import, experts, territory, surveys, results.
    login(page, live_server, "operator")
    page.wait_for_selector("main h1")
    audit.here("dashboard-operator")
    audit.check("/campaigns/", "campaign-list")
    audit.check("/campaigns/2026/", "campaign-detail")
    audit.check("/campaigns/new/", "campaign-new")
    audit.check("/campaigns/2026/edit/", "campaign-edit")
    audit.check("/campaigns/2026/materials/", "materials")
    audit.check("/methodology/", "methodology")
    audit.check("/people/", "people")
    audit.check("/campaigns/2026/regions/43/import/", "import")
    audit.check("/campaigns/2026/experts/", "experts-assign")
    audit.check("/campaigns/2020-approbation/agreement/", "agreement")
    audit.check("/territory/", "regions")
    audit.check("/territory/43/", "region-detail")
    audit.check("/campaigns/2026/surveys/", "survey-overview")
    audit.check("/campaigns/2026/m/yashkul/", "submission-operator")
    audit.check("/campaigns/2020-approbation/results/overview/", "ministry-overview-operator")
    audit.check("/accounts/profile/", "profile")
    audit.check("/accounts/password/change/", "password-change")
    logout(page, live_server)

    # Coordinator: progress of the region, pre-scoring, regions ranked, a report requested.
    login(page, live_server, "coordinator-43")
    page.wait_for_selector("main h1")
    audit.here("dashboard-coordinator")
    audit.check("/campaigns/2026/regions/43/", "region-progress")
    audit.check("/campaigns/2026/m/kumeny/scoring/", "prescoring", wait="main form")
    audit.check("/campaigns/2026/surveys/regions/43/", "survey-region")
    answered = Invitation.objects.filter(campaign__slug="2026", completed=True, school__municipality__region__code="43")
    audit.check(f"/campaigns/2026/surveys/schools/{answered.first().school_id}/sheet/", "survey-sheet")
    audit.check("/campaigns/2020-approbation/results/regions/", "region-ranking")
    audit.check("/campaigns/2020-approbation/results/m/kirov/what-if/", "what-if")
    page.goto(f"{live_server.url}/campaigns/2020-approbation/results/regions/")
    before = set(ReportJob.objects.values_list("pk", flat=True))
    page.locator("form[action*='/report/'] button").first.click()
    page.wait_for_url(re.compile(r"/reports/[0-9a-f-]+/$"))
    assert set(ReportJob.objects.values_list("pk", flat=True)) - before
    audit.here("report-status")
    logout(page, live_server)

    # Organizer: own municipality, the form, a mechanism, an appeal, the scorecard, the survey links.
    login(page, live_server, "organizer-kirov")
    page.wait_for_selector("main h1")
    audit.here("dashboard-organizer")
    audit.check("/municipalities/kirov/", "municipality")
    audit.check("/campaigns/2026/m/kirov/", "submission")
    audit.check("/campaigns/2026/m/kirov/mechanisms/1.1/", "primary-data-form", wait="[data-field=description]")
    audit.check("/campaigns/2020-approbation/m/kirov/appeal/", "appeal-form")
    audit.check("/campaigns/2020-approbation/results/m/kirov/", "scorecard", wait="svg[role=img]")
    assert_charts_have_text_and_a_table(page)
    audit.check("/campaigns/2026/surveys/m/kirov/", "survey-municipality")
    logout(page, live_server)

    # Expert: the queue, a submission to score, the appeals.
    login(page, live_server, "expert-1")
    page.wait_for_selector("main h1")
    audit.here("dashboard-expert")
    audit.check("/experts/queue/", "expert-queue")
    audit.check("/campaigns/2026/m/yashalta/expert/", "expert-scoring", wait="main form")
    audit.check("/experts/appeals/", "appeal-queue")
    logout(page, live_server)

    # Ministry: dashboard, the national ranking, the overview.
    login(page, live_server, "ministry")
    page.wait_for_selector("main h1")
    audit.here("dashboard-ministry")
    audit.check("/campaigns/2020-approbation/results/", "ranking", wait="table.ranking-table")
    audit.check("/campaigns/2020-approbation/results/overview/", "ministry-overview")
    assert_charts_have_text_and_a_table(page)
    assert ReportJob.objects.exists()

    assert len(audit.visited) >= 47, audit.visited
    audit.verdict()


# --- the keyboard ----------------------------------------------------------------------------------------

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  // A Bootstrap .btn-check radio is hidden: its label shows the focus.
  const shown = el.matches(".btn-check") ? document.querySelector(`label[for="${el.id}"]`) : el;
  const s = getComputedStyle(shown);
  const r = shown.getBoundingClientRect();
  const name = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || "").trim().slice(0, 40);
  return {
    key: el.tagName + "#" + el.id + "." + el.className + "|" + (el.getAttribute("href") || el.name || "") + "|" + name,
    tag: el.tagName.toLowerCase(), id: el.id, type: el.type || "", name: el.name || "", value: el.value || "",
    text: name, skip: el.classList.contains("skip-link"), inMain: !!el.closest("main"),
    ring: (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none"),
    outline: s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor, shadow: s.boxShadow,
    box: [r.left, r.top, r.width, r.height], inView: r.width > 1 && r.height > 1 && r.bottom > 0 &&
      r.right > 0 && r.top < innerHeight && r.left < innerWidth,
  };
}"""


def focused(page):
    return page.evaluate(FOCUS)


def tab(page, key="Tab"):
    page.keyboard.press(key)
    info = focused(page)
    for _ in range(20):  # on a loaded machine the scroll to the focused element may land a few frames later
        if info is None or info["inView"]:
            break
        page.wait_for_timeout(50)
        info = focused(page)
    return info


def assert_focus_visible(info, where):
    assert info["ring"], (
        f"{where}: no visible focus on {info['key']} (outline {info['outline']}, shadow {info['shadow']})"
    )
    assert info["inView"], f"{where}: the focused element is off screen: {info['key']} {info['box']}"


def tab_to(page, predicate, where, limit=150):
    """Press Tab until the focused element satisfies predicate; every stop must show its focus."""
    for _ in range(limit):
        info = tab(page)
        if info is None:
            continue
        assert_focus_visible(info, where)
        if predicate(info):
            return info
    raise AssertionError(f"{where}: {limit} presses of Tab did not reach the element")


def to_top(page):
    """Put the keyboard at the top of the document, as after loading a page without autofocus."""
    page.evaluate(
        """() => { document.activeElement && document.activeElement.blur(); const b = document.body;
                   b.tabIndex = -1; b.focus({preventScroll: true}); b.removeAttribute('tabindex'); scrollTo(0, 0); }"""
    )


def assert_skip_link_first(page, where):
    to_top(page)
    info = tab(page)
    assert info and info["skip"], f"{where}: the first Tab stop is {info and info['key']}, not the skip link"
    assert info["text"] == "Перейти к содержимому", info["text"]
    assert_focus_visible(info, where)
    assert info["box"][2] > 40 and info["box"][3] > 10, f"{where}: the skip link is not visible: {info['box']}"


def cycle(page, where, limit=200):
    """Tab from the top of the page: every stop shows its focus, and the focus comes back to the skip link
    (through the address bar) without getting stuck: no trap."""
    assert_skip_link_first(page, where)
    seen, stops, back = set(), 0, False
    for _ in range(limit):
        info = tab(page)
        stops += 1
        if info is None:  # past the last element: the browser's own controls
            continue
        if info["skip"]:
            back = True
            break
        assert_focus_visible(info, where)
        seen.add(info["key"])
    assert back, f"{where}: after {limit} presses of Tab the focus did not come back to the top ({len(seen)} stops)"
    total = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
             .filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length &&
                          getComputedStyle(e).visibility !== 'hidden').length"""
    )
    # Radio groups are one stop each, so fewer stops than focusable elements is expected; more would be a loop.
    assert len(seen) <= total, (where, len(seen), total)
    return len(seen)


@pytest.fixture
def page(page):
    """Scrolling without animation (Bootstrap scrolls smoothly): a focused element is where it ends up."""
    page.emulate_media(reduced_motion="reduce")
    return page


def test_keyboard_skip_link_visible_focus_and_no_trap(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    assert_skip_link_first(page, "login")
    page.keyboard.press("Enter")  # the skip link moves the focus past the navigation
    assert page.url.endswith("#main")
    info = tab(page)
    assert info["inMain"], f"after the skip link the focus went to {info['key']}"
    assert info["name"] == "username", info
    page.keyboard.type("organizer-kirov")
    page.keyboard.press("Tab")
    page.keyboard.type("demo12345")
    page.keyboard.press("Enter")
    page.wait_for_selector("main h1")
    shot(page, "a11y-keyboard-dashboard")

    for path in ("/", "/campaigns/2026/m/kirov/", "/campaigns/2020-approbation/results/m/kirov/"):
        page.goto(live_server.url + path)
        stops = cycle(page, path)
        assert stops > 5, (path, stops)

    # The focus ring on the dark navigation bar is white, not Bootstrap's pale blue.
    page.goto(live_server.url + "/")
    link = tab_to(page, lambda i: "nav-link" in i["key"], "navbar")
    assert "255, 255, 255" in link["outline"] or "255, 255, 255" in link["shadow"], link
    shot(page, "a11y-keyboard-navbar-focus")


def test_the_primary_data_form_is_filled_and_submitted_by_keyboard(page, live_server, world, campaign):
    from assessment.models import Answer, Submission

    submission = campaign.submissions.get(municipality=world.municipality)
    fill_all_but(campaign, submission, world.users["organizer"], skip={"1.1.1"})
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, lambda i: i["name"] == "username", "login")
    page.keyboard.type("t-organizer")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-9")
    page.keyboard.press("Enter")
    page.wait_for_selector("main h1")

    page.goto(f"{live_server.url}/campaigns/test-2026/m/kirov/mechanisms/1.1/")
    to_top(page)
    tab_to(page, lambda i: i["id"] == "d-1.1.1", "form")
    page.keyboard.type("Цели закреплены в приказе № 214")
    assert tab(page)["id"] == "l-1.1.1"
    page.keyboard.type("https://uo.example.ru/order-214.pdf")
    tab_to(page, lambda i: i["id"] == "x-1.1.1", "form", limit=10)
    page.keyboard.press("Space")
    tab_to(page, lambda i: i["id"] == "a-conclusions", "analysis")
    page.keyboard.type("Механизм выстроен")
    assert tab(page)["id"] == "a-problems"
    page.keyboard.type("Данные собираются вручную")
    assert tab(page)["id"] == "a-measures"
    page.keyboard.type("Перейти на региональную систему")
    page.locator("#analysis [data-save-state]").filter(has_text="сохранено").wait_for()
    block = page.locator("#c-1\\.1\\.1")
    block.locator("[data-block-state]").filter(has_text="заполнен").wait_for()
    block.locator("[data-save-state]").filter(has_text="сохранено").wait_for()
    shot(page, "a11y-keyboard-form")
    answer = Answer.objects.get(submission=submission, criterion__code="1.1.1")
    assert answer.is_complete and "214" in answer.description

    page.goto(f"{live_server.url}/campaigns/test-2026/m/kirov/")
    to_top(page)
    tab_to(page, lambda i: i["tag"] == "button" and i["text"] == "Отправить", "submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert not page.console_errors, page.console_errors


def test_the_survey_is_answered_and_sent_by_keyboard(page, live_server, world, survey_campaign):
    from surveys.models import Invitation

    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role="teacher")
    page.goto(f"{live_server.url}/s/{invitation.token}/")
    assert_skip_link_first(page, "survey intro")
    tab_to(page, lambda i: i["name"] == "action" and i["value"] == "next", "survey intro")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    sections = 0
    while page.locator("#survey-form").count():
        sections += 1
        assert sections < 20
        to_top(page)
        while True:
            info = tab(page)
            if info is None:
                continue
            assert_focus_visible(info, page.url)
            if info["name"] == "action" and info["value"] == "next":
                break
            if not info["name"].startswith("q-"):
                continue
            group = page.locator(f"[name='{info['name']}']")
            if info["type"] in ("radio", "checkbox"):
                if not any(group.nth(i).is_checked() for i in range(group.count())):
                    page.keyboard.press("Space")
            elif info["type"] == "number" and not info["value"]:
                page.keyboard.type("12")
            elif info["tag"] == "textarea" and not info["value"]:
                page.keyboard.type("Нужно больше времени на обсуждение результатов.")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert sections >= 5, sections

    assert page.locator(".missing-list").count() == 0, page.locator(".missing-list").inner_text()
    shot(page, "a11y-keyboard-survey-review")
    to_top(page)
    tab_to(page, lambda i: i["name"] == "action" and i["value"] == "submit", "survey review", limit=400)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/s/done/"), page.url
    invitation.refresh_from_db()
    assert invitation.completed

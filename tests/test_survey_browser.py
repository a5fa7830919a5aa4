"""The anonymous school survey on a phone (360×740, touch, Russian), in headless Chromium.

Elements are found by ids, names, values and CSS, not by visible text: the Russian translations of the
survey strings may lag behind. Screenshots go to tests/screenshots/survey-phone-*.png."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.test_browser import shot

pytestmark = pytest.mark.browser

PHONE = {
    "locale": "ru-RU",
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
}
SENTENCE = "Нужно чаще обсуждать результаты с учителями и родителями."


def phone_page(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on(
        "console", lambda msg: errors.append(f"{msg.text} @ {msg.location.get('url')}") if msg.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    saves = []

    def on_response(response):
        if "/autosave/" in response.url and response.request.method == "POST":
            saves.append({"status": response.status, "data": response.request.post_data or ""})

    page.on("response", on_response)
    page.autosaves = saves
    return context, page


@pytest.fixture
def page(browser):
    context, page = phone_page(browser)
    yield page
    context.close()


@pytest.fixture
def invitation(demo):
    from surveys.models import Invitation

    inv = (
        Invitation.objects.filter(campaign__slug="2026", completed=False, role="director")
        .select_related("school", "campaign")
        .first()
    )
    assert inv is not None, "the demo has no pending director invitation in campaign 2026"
    return inv


def link(live_server, inv):
    return f"{live_server.url}/s/{inv.token}/"


def assert_fits_the_phone(page):
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert fits, f"horizontal scroll on {page.url}: scrollWidth, innerWidth = {widths}"


def page_number(page):
    return int(page.locator("#survey-form input[name=page]").input_value())


def codes_on_page(page):
    return page.locator("fieldset.survey-question").evaluate_all("els => els.map(e => e.id.slice(2))")


def answer(page, code):
    """Answer one visible question as the brief says; returns the value(s) sent."""
    box = page.locator(f"#q-{code}")
    if box.locator("input.btn-check[value=yes]").count():
        box.locator(f"label[for=q-{code}-yes]").click()
        expect(box.locator(f"#q-{code}-yes")).to_be_checked()
        return "yes"
    if box.locator("input.btn-check[value='4']").count():
        box.locator(f"label[for=q-{code}-4]").click()
        expect(box.locator(f"#q-{code}-4")).to_be_checked()
        return "4"
    if box.locator("input[type=radio]").count():
        radio = box.locator("input[type=radio]").first
        radio.click()
        expect(radio).to_be_checked()
        return radio.get_attribute("value")
    if box.locator("input[type=checkbox]").count():
        checkbox = box.locator("input[type=checkbox]:not([data-exclusive])").first
        checkbox.click()
        expect(checkbox).to_be_checked()
        return checkbox.get_attribute("value")
    if box.locator("input[type=number]").count():
        field = box.locator("input[type=number]")
        value = field.get_attribute("min") or "1"
        field.fill(value)
        return value
    field = box.locator("textarea")
    field.click()
    field.press_sequentially(SENTENCE)
    return SENTENCE


def wait_saved(page, answered, timeout=15):
    """Wait for an autosave that carried every answer given on this page, then for the success state."""
    fragments = [f'name="q-{code}"\r\n\r\n{value}\r\n' for code, value in answered.items()]
    deadline = time.monotonic() + timeout
    while True:
        if any(s["status"] == 200 and all(f in s["data"] for f in fragments) for s in page.autosaves):
            break
        assert time.monotonic() < deadline, f"no autosave with {sorted(answered)}: {page.autosaves[-3:]}"
        page.wait_for_timeout(100)
    state = page.locator("[data-save-state]")
    expect(state).to_have_class(re.compile(r"\btext-success\b"))


def answer_section(page, skip=()):
    """Answer every visible question of the section shown; check that hidden dependent questions appear
    when their parent's answer calls for them. Returns (answers, revealed codes)."""
    codes = codes_on_page(page)
    hidden_at_first = {c for c in codes if "d-none" in (page.locator(f"#q-{c}").get_attribute("class") or "")}
    answers, revealed = {}, []
    for code in codes:
        box = page.locator(f"#q-{code}")
        if not box.is_visible() or code in skip:
            continue
        value = answer(page, code)
        answers[code] = value
        for dep in codes:
            dep_box = page.locator(f"#q-{dep}")
            if dep_box.get_attribute("data-depends-on") != code:
                continue
            wanted = (dep_box.get_attribute("data-depends-values") or "").split("|")
            if value in wanted:
                expect(dep_box).to_be_visible()
                expect(dep_box).not_to_have_class(re.compile(r"\bd-none\b"))
                if dep in hidden_at_first:
                    revealed.append(dep)
            else:
                expect(dep_box).to_be_hidden()
    return answers, revealed


def go(page, action):
    """Press a navigation button and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator(f"button[name=action][value={action}]").click()


def answer_everything(page, skip=()):
    """From section 1 to the review page; returns every answer given and every reveal seen."""
    given, revealed = {}, []
    while page.locator("#survey-form").count():
        answers, seen = answer_section(page, skip=skip)
        given.update(answers)
        revealed += seen
        if answers:
            wait_saved(page, answers)
        go(page, "next")
    return given, revealed


def test_a_director_answers_the_whole_questionnaire_on_a_phone(page, live_server, invitation):
    from surveys.models import Draft, Response

    responses = Response.objects.filter(
        campaign=invitation.campaign, municipality=invitation.school.municipality, role="director"
    )
    before = responses.count()
    url = link(live_server, invitation)

    response = page.goto(url)
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "ru"
    expect(page.locator("button[name=action][value=next]")).to_be_visible()
    assert_fits_the_phone(page)
    shot(page, "survey-phone-intro")

    go(page, "next")
    assert re.search(r"\?p=1$", page.url), page.url
    total_sections = None
    given, revealed = {}, []
    while page.locator("#survey-form").count():
        number = page_number(page)
        assert page.locator("html").get_attribute("lang") == "ru"
        assert_fits_the_phone(page)
        if total_sections is None:
            total_sections = page.locator(".survey-sections li").count() - 1
        text = page.locator("[data-progress-text]")
        bar = page.locator("[data-progress-bar]")
        text_before, bar_before = text.inner_text(), bar.get_attribute("class")
        assert re.search(r"\bpct-\d+\b", bar_before), bar_before

        answers, seen = answer_section(page)
        assert answers, f"nothing to answer in section {number}"
        given.update(answers)
        revealed += seen
        if "D09" in answers:  # the 1.2 page: D08 shown because D03 was answered «500+», D09 revealed by D08
            assert "D08" in answers

        wait_saved(page, answers)
        expect(text).not_to_have_text(text_before)
        bar_after = bar.get_attribute("class")
        assert bar_after != bar_before, (number, bar_before, bar_after)
        assert_fits_the_phone(page)
        if "D09" in answers:
            page.locator("#q-D08").scroll_into_view_if_needed()
            shot(page, "survey-phone-section")
        go(page, "next")
        assert re.search(rf"\?p={number + 1}$", page.url), page.url

    assert total_sections and total_sections >= 2
    assert "D09" in revealed, revealed  # D09 hidden until D08 is answered «yes»
    assert {"D08", "D09", "D10"} <= set(given), sorted(given)

    # The review page: nothing missing, full progress, the submit button enabled.
    assert page.locator("html").get_attribute("lang") == "ru"
    submit = page.locator("button[name=action][value=submit]")
    expect(submit).to_be_enabled()
    assert page.locator(".missing-list").count() == 0
    expect(page.locator("[data-progress-bar]")).to_have_class(re.compile(r"\bpct-100\b"))
    assert_fits_the_phone(page)
    shot(page, "survey-phone-review")

    submit.click()
    page.wait_for_url(re.compile(r"/s/done/$"))
    assert page.locator("html").get_attribute("lang") == "ru"
    assert_fits_the_phone(page)
    shot(page, "survey-phone-done")

    invitation.refresh_from_db()
    assert invitation.completed
    assert responses.count() == before + 1
    assert not Draft.objects.filter(invitation=invitation).exists()

    assert not page.console_errors, page.console_errors

    again = page.goto(url)
    assert again.status == 404
    assert page.locator("#survey-form").count() == 0
    expect(page.locator(".bi-link-45deg")).to_be_visible()  # surveys/unavailable.html
    assert_fits_the_phone(page)
    # Chromium reports the page's own 404 as a console error; nothing else may fail.
    others = [e for e in page.console_errors if not e.endswith(f"@ {url}")]
    assert not others, others


def test_answers_survive_a_reload_and_stay_in_the_browser_that_gave_them(browser, page, live_server, invitation):
    url = link(live_server, invitation)
    page.goto(url)
    go(page, "next")
    assert page_number(page) == 1
    first, _ = answer_section(page)
    assert set(first) == {"D01", "D02", "D03"}, first
    wait_saved(page, first)

    page.reload()
    assert page_number(page) == 1
    for code, value in first.items():
        expect(page.locator(f"input[name=q-{code}][value='{value}']")).to_be_checked()

    go(page, "next")
    assert page_number(page) == 2
    page.locator("label[for=q-D04-yes]").click()
    wait_saved(page, {"D04": "yes"})

    # The same link in another browser (no cookie): the draft belongs to the browser that wrote it. The other
    # one is told the questionnaire was started elsewhere, sees none of the answers and may only start again.
    other, phone = phone_page(browser)
    try:
        phone.goto(url)
        expect(phone.get_by_text(re.compile("начали заполнять в другом браузере"))).to_be_visible()
        expect(phone.locator("button[name=action][value=restart]")).to_be_visible()
        assert phone.locator("input[name^=q-]").count() == 0
        shot(phone, "survey-phone-started-elsewhere")
        assert not phone.console_errors, phone.console_errors
    finally:
        other.close()
    page.reload()
    assert page_number(page) == 2
    expect(page.locator("#q-D04-yes")).to_be_checked()
    expect(page.locator("[data-progress-text]")).to_have_text(re.compile(r"(^|\D)4\D+\d+"))  # 4 of N answered
    go(page, "prev")
    assert page_number(page) == 1
    for code, value in first.items():
        expect(page.locator(f"input[name=q-{code}][value='{value}']")).to_be_checked()
    assert not page.console_errors, page.console_errors


def test_a_required_question_left_empty_is_named_on_the_review_page(page, live_server, invitation):
    from surveys.models import Question

    skipped = Question.objects.get(
        questionnaire__methodology=invitation.campaign.methodology, questionnaire__role="director", code="D06"
    )
    assert skipped.required
    page.goto(link(live_server, invitation))
    go(page, "next")
    given, _ = answer_everything(page, skip={"D06"})
    assert "D06" not in given

    submit = page.locator("button[name=action][value=submit]")
    expect(submit).to_be_disabled()
    missing = page.locator(".missing-list li")
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text(skipped.text[:40])
    anchor = missing.locator("a")
    href = anchor.get_attribute("href")
    assert href.endswith("#q-D06"), href
    assert_fits_the_phone(page)
    shot(page, "survey-phone-review-missing")

    anchor.click()
    page.wait_for_url(re.compile(r"\?p=\d+#q-D06$"))
    assert page_number(page) == 2  # «about you», then 1.1 where D06 is
    box = page.locator("#q-D06")
    expect(box).to_be_visible()
    expect(box).to_be_in_viewport()
    assert not page.console_errors, page.console_errors

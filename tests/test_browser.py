"""Each role's main path in headless Chromium (Debian's package), driven by Playwright.

Screenshots go to tests/screenshots/ for a person to look at."""

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"


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


def fill_all_but(campaign, submission, user, skip):
    from assessment import collection
    from assessment.models import Criterion

    for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        if c.code in skip:
            continue
        collection.answer_save(
            submission=submission,
            criterion=c,
            by=user,
            description=f"Приказ по {c.code}",
            links_text=f"https://uo.example.ru/{c.code}.pdf",
            complete=True,
        )
    for m in campaign.methodology.mechanisms.exclude(code="1.1"):
        collection.analysis_save(
            submission=submission, mechanism=m, by=user, conclusions="В", problems="П", measures="М"
        )


def test_organizer_fills_reloads_is_refused_then_submits(transactional_db, page, live_server, world, campaign):
    submission = campaign.submissions.get(municipality=world.municipality)
    fill_all_but(campaign, submission, world.users["organizer"], skip={"1.1.1", "1.1.2"})
    login(page, live_server, "t-organizer", "correct-horse-9")
    form_url = f"{live_server.url}/campaigns/test-2026/m/kirov/mechanisms/1.1/"

    page.goto(form_url)
    block = page.locator("#c-1\\.1\\.1")
    block.locator("textarea[data-field=description]").fill("Цели закреплены в приказе № 214 от 26.08.2026")
    block.locator("[data-save-state]").filter(has_text="сохранено").wait_for()
    page.reload()
    assert "приказе № 214" in page.locator("#c-1\\.1\\.1 textarea[data-field=description]").input_value()
    shot(page, "form-mechanism-1.1")

    page.goto(f"{live_server.url}/campaigns/test-2026/m/kirov/")
    page.get_by_role("button", name="Отправить").click()
    missing = page.locator("#missing")
    missing.wait_for()
    text = missing.inner_text()
    assert "1.1.1" in text and "1.1.2" in text and "1.1" in text
    assert "1.2.1" not in text
    shot(page, "submit-refused")

    page.goto(form_url)
    first = page.locator("#c-1\\.1\\.1")
    first.locator("textarea[data-field=links]").fill("https://uo.example.ru/order-214.pdf")
    first.locator("[data-save-state]").filter(has_text="сохранено").wait_for()
    first.locator("input[data-field=complete]").check()
    second = page.locator("#c-1\\.1\\.2")
    second.locator("textarea[data-field=description]").fill("Перечень из 12 показателей с формулами")
    second.locator("textarea[data-field=links]").fill("https://uo.example.ru/indicators.pdf")
    second.locator("[data-save-state]").filter(has_text="сохранено").wait_for()
    second.locator("input[data-field=complete]").check()
    analysis = page.locator("#analysis")
    analysis.locator("[data-field=conclusions]").fill("Механизм выстроен")
    analysis.locator("[data-field=problems]").fill("Данные собираются вручную")
    analysis.locator("[data-field=measures]").fill("Перейти на региональную систему")
    analysis.locator("[data-save-state]").filter(has_text="сохранено").wait_for()
    for code in ("1\\.1\\.1", "1\\.1\\.2"):  # both saves confirmed before the page is left
        page.locator(f"#c-{code} [data-block-state]").filter(has_text="заполнен").wait_for()

    page.goto(f"{live_server.url}/campaigns/test-2026/m/kirov/")
    page.get_by_role("button", name="Отправить").click()
    page.locator(".alert-success").wait_for()
    assert "отправлена" in page.locator(".status-badge").first.inner_text()
    shot(page, "submitted")
    assert not page.console_errors, page.console_errors


def test_a_saved_block_does_not_push_the_focused_field_off_screen(page, live_server, world, campaign):
    """The server's answer to an autosave redraws the block's link list; if it lands while the keyboard is
    already further down, the focused field stays where it was instead of sliding below the window."""
    login(page, live_server, "t-organizer", "correct-horse-9")
    page.goto(f"{live_server.url}/campaigns/test-2026/m/kirov/mechanisms/1.1/")
    held = []
    page.route("**/criteria/1.1.1/save/", lambda route: held.append(route))
    links = "\n".join(f"https://uo.example.ru/order-{n}.pdf" for n in range(6))
    page.locator("#d-1\\.1\\.1").fill("Цели закреплены в приказе № 214")
    page.locator("#c-1\\.1\\.1 textarea[data-field=links]").fill(links)
    page.locator("#x-1\\.1\\.1").check()  # saves at once
    for _ in range(200):  # up to 10 s on a loaded machine
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the block was not saved"
    target = page.locator("#d-1\\.1\\.2")
    target.focus()
    # the field near the bottom of the window, the list being redrawn above it and in sight
    page.evaluate(
        "() => { const r = document.getElementById('d-1.1.2').getBoundingClientRect();"
        " window.scrollBy({top: r.bottom - innerHeight + 20, behavior: 'instant'}); }"
    )
    before = target.bounding_box()["y"]
    held[0].continue_()
    page.locator("#c-1\\.1\\.1 [data-link-list] li").nth(5).wait_for()
    after = target.bounding_box()["y"]
    assert abs(after - before) < 1, (before, after)
    assert page.evaluate("document.activeElement.id") == "d-1.1.2"
    assert not page.console_errors, page.console_errors


def test_a_draft_typed_offline_survives_and_is_sent_when_back(transactional_db, browser, live_server, world, campaign):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, live_server, "t-organizer", "correct-horse-9")
    url = f"{live_server.url}/campaigns/test-2026/m/kirov/mechanisms/1.2/"
    page.goto(url)

    context.set_offline(True)
    page.locator("#c-1\\.2\\.1 textarea[data-field=description]").fill("Набрано без связи")
    page.locator("#c-1\\.2\\.1 [data-save-state]").filter(has_text="Нет связи").wait_for()
    shot(page, "form-offline")
    page.close(run_before_unload=False)  # the tab is closed (or the browser crashes) while offline
    context.set_offline(False)
    page = context.new_page()
    page.goto(url)
    page.locator("#c-1\\.2\\.1 [data-save-state]").filter(has_text="сохранено").wait_for()
    assert page.locator("#c-1\\.2\\.1 textarea[data-field=description]").input_value() == "Набрано без связи"

    from assessment.models import Answer

    assert (
        Answer.objects.get(submission__municipality=world.municipality, criterion__code="1.2.1").description
        == "Набрано без связи"
    )
    context.close()


def test_coordinator_follows_the_region_and_downloads_the_workbook(page, live_server, demo):
    login(page, live_server, "coordinator-43")
    page.get_by_role("link", name="Следите за ходом сбора информации").first.click()

    page.locator(".region-table").wait_for()
    assert "город Киров" in page.locator(".region-table").inner_text()
    assert "отправлена" in page.locator(".region-table").inner_text()  # Куменский район submitted
    shot(page, "region-progress-43")
    with page.expect_download() as download:
        page.get_by_role("link", name="Скачать книгу Excel").click()
    assert download.value.suggested_filename == "muko-2026-43.xlsx"
    assert not page.console_errors, page.console_errors


def test_coordinator_prescores_with_a_running_total(page, live_server, demo):
    login(page, live_server, "coordinator-43")
    page.goto(f"{live_server.url}/campaigns/2026/m/kumeny/")
    page.get_by_role("link", name="Оценить критерии").click()

    page.locator("#p-1\\.1\\.1").fill("5")
    page.locator("#p-1\\.1\\.2").fill("10")
    assert page.locator("[data-total]").inner_text() == "15"
    page.get_by_role("button", name="Сохранить баллы").click()
    page.locator(".alert-success").wait_for()
    shot(page, "prescoring-kumeny")
    assert page.locator("#p-1\\.1\\.2").input_value() == "10"
    assert not page.console_errors, page.console_errors


def test_expert_changes_a_score_with_a_reason_and_the_operator_finalizes(page, live_server, demo):
    login(page, live_server, "expert-1")
    page.get_by_role("link", name="Моя экспертиза").first.click()
    page.get_by_role("link", name="Яшалтинский район").first.click()  # the open review comes first

    current = int(page.locator("#p-1\\.1\\.2").input_value())
    page.locator("#p-1\\.1\\.2").fill(str(current - 1 if current else 1))
    page.get_by_role("button", name="Сохранить баллы").click()
    page.locator("#c-1\\.1\\.2.list-group-item-danger").wait_for()  # a change without a reason is refused
    page.console_errors.clear()  # that refusal is a 400 page, which the console reports
    page.locator("#c-1\\.1\\.2 textarea").fill("Перечень показателей не содержит формул расчёта")
    page.get_by_role("button", name="Сохранить баллы").click()
    page.locator(".alert-success").wait_for()
    shot(page, "expert-scoring")
    page.get_by_role("button", name="Завершить экспертизу").click()
    page.locator(".alert-success").wait_for()

    page.context.clear_cookies()
    login(page, live_server, "operator")
    page.goto(f"{live_server.url}/campaigns/2026/m/yashalta/")
    page.get_by_role("button", name="Утвердить итоги").click()
    page.locator(".result-card").wait_for()
    assert "/ 555" in page.locator(".result-card").inner_text()
    assert "Перечень показателей не содержит формул расчёта" in page.locator("#explanation").inner_text()
    shot(page, "result-yashalta")
    assert not page.console_errors, page.console_errors

"""Evidence on the authority's own site (issue 15, part 6; seed 004: «МОУО не были представлены ссылки с сайтов»,
«на сайтах МОУО отсутствует запрашиваемая информация»).

A criterion that requires evidence takes a link, a file alone no longer completes it; a link off the authority's
website is allowed but flagged wherever links are shown; the coordinator's pages say how many links are not
checked yet instead of «0 проблемных», and «проблемные» once they are. The texts are compared through the
catalogue (gettext in the site's language), so the tests hold before and after the translation."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from openpyxl import load_workbook

from assessment import collection, excel_export, excel_import
from assessment.collection import CollectionError
from assessment.models import Answer, Criterion, EvidenceLink, ReviewAssignment, Submission
from assessment.sites import LinkTally, link_tallies, on_authority_site, registrable_domain, site_host
from municipalities.access import access_for
from municipalities.models import Role
from reports.documents import region_html, region_report, region_sheets
from tests.factories import AppointmentFactory, UserFactory

WEBSITE = "https://uo-kirov.ru"
ON_SITE = "https://uo-kirov.ru/documents/prikaz-1.1.2.pdf"
OFF_SITE = "https://disk.example.net/d/prikaz.pdf"
WARNING = "link not on the authority's website: the expert may not count it"
PDF = b"%PDF-1.4\n%test\n"


def criterion(campaign, code):
    return Criterion.objects.get(mechanism__methodology=campaign.methodology, code=code)


def not_checked(n):
    return ngettext("not checked: %(n)s link", "not checked: %(n)s links", n) % {"n": n}


def with_problems(n):
    return ngettext("with problems: %(n)s link", "with problems: %(n)s links", n) % {"n": n}


def outside(n):
    return ngettext(
        "outside the authority's website: %(n)s link", "outside the authority's website: %(n)s links", n
    ) % {"n": n}


# --- the rule: is a URL on the authority's own site? ------------------------------------------------------------


@pytest.mark.parametrize(
    "url, website, on_site",
    [
        ("https://uo-kirov.ru/documents/a.pdf", WEBSITE, True),
        ("https://docs.uo-kirov.ru/a.pdf", WEBSITE, True),  # a subdomain
        ("https://a.b.uo-kirov.ru/a.pdf", WEBSITE, True),  # a deeper one
        ("https://www.uo-kirov.ru/a.pdf", WEBSITE, True),  # «www.» on the link
        ("https://uo-kirov.ru/a.pdf", "https://www.uo-kirov.ru/", True),  # «www.» on the website
        ("http://uo-kirov.ru/a.pdf", WEBSITE, True),  # http against https
        ("https://uo-kirov.ru:8443/a.pdf", WEBSITE, True),  # a port
        ("https://uo-kirov.ru/a.pdf", "https://uo-kirov.ru:8080", True),  # a port on the website
        ("https://UO-KIROV.RU./a.pdf", WEBSITE, True),  # capitals and the root dot
        ("https://uo-kirov.ru/a.pdf", "uo-kirov.ru", True),  # a website typed without its scheme
        ("https://obr-kirov.ru/a.pdf", WEBSITE, False),  # another domain
        ("https://uo-kirov.ru.evil.example/a.pdf", WEBSITE, False),  # the look-alike: the site's name as a prefix
        ("https://evil-uo-kirov.ru/a.pdf", WEBSITE, False),  # the site's name as a suffix, without the dot
        ("https://uo-kirov.ru@evil.example/a.pdf", WEBSITE, False),  # the site's name as the user part
        ("https://kirov.ru/a.pdf", WEBSITE, False),  # a parent of someone else's name
        ("https://кировобр.рф/приказ.pdf", "https://xn--90abrhvble.xn--p1ai", True),  # IDN against punycode
        ("https://xn--90abrhvble.xn--p1ai/prikaz.pdf", "https://кировобр.рф", True),  # punycode against IDN
        ("https://ДОКИ.КИРОВОБР.РФ/a.pdf", "https://кировобр.рф/", True),  # an IDN subdomain in capitals
        ("https://другойобр.рф/a.pdf", "https://кировобр.рф", False),  # another IDN domain
        ("https://kirov.ru/obr/a.pdf", "https://obr.kirov.ru", True),  # the website on a subdomain of its domain
        ("https://lagan-uo.kalmykia.ru/a.pdf", "https://elista-uo.kalmykia.ru", False),  # a shared suffix
        ("https://docs.elista-uo.kalmykia.ru/a.pdf", "https://elista-uo.kalmykia.ru", True),
        ("https://lagan.gosweb.gosuslugi.ru/a.pdf", "https://elista.gosweb.gosuslugi.ru", False),  # a site builder
        ("https://10.0.0.1/a.pdf", "https://10.0.0.2", False),  # addresses compare whole
        ("https://uo-kirov.ru/a.pdf", "", True),  # no website on record: nothing is flagged
        ("https://anything.example/a.pdf", "", True),
        ("https://anything.example/a.pdf", None, True),
    ],
)
def test_a_link_is_on_the_authority_site_when_its_domain_is_the_sites(url, website, on_site):
    assert on_authority_site(url, website) is on_site


def test_the_host_is_compared_in_ascii_without_www_port_or_case():
    assert site_host("HTTP://WWW.Uo-Kirov.RU:8080/x") == "uo-kirov.ru"
    assert site_host("https://кировобр.рф/") == "xn--90abrhvble.xn--p1ai"
    assert site_host("https://[fe80::1/") == ""  # damaged: no host, no exception
    assert registrable_domain("a.b.uo-kirov.ru") == "uo-kirov.ru"
    assert registrable_domain("docs.uo.kalmykia.ru") == "uo.kalmykia.ru"


# --- completeness: a file alone does not complete a criterion that requires a website link -------------------


@pytest.fixture
def kirov(world):
    world.municipality.website = WEBSITE
    world.municipality.save()
    return world.municipality


def attach(submission, criterion, user):
    return collection.attachment_add(
        submission=submission, criterion=criterion, upload=SimpleUploadedFile("приказ.pdf", PDF), by=user
    )


def test_a_file_alone_does_not_complete_a_criterion_that_requires_a_link(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    required = criterion(campaign, "1.1.2")
    assert required.evidence_required
    attach(submission, required, world.users["organizer"])

    with pytest.raises(CollectionError) as refused:
        collection.answer_save(
            submission=submission,
            criterion=required,
            by=world.users["organizer"],
            description="Приказ об утверждении показателей",
            links_text="",
            complete=True,
        )

    assert (
        gettext(
            "no link to the authority's website: this criterion needs a link to a page of the authority's site; an attached "
            "file is welcome as well but does not replace the link"
        )
        in refused.value.message
    )
    assert not Answer.objects.filter(submission=submission, criterion=required, is_complete=True).exists()


def test_a_link_with_or_without_a_file_completes_it(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    required = criterion(campaign, "1.1.2")
    attach(submission, required, world.users["organizer"])

    answer = collection.answer_save(
        submission=submission,
        criterion=required,
        by=world.users["organizer"],
        description="Приказ об утверждении показателей",
        links_text=ON_SITE,
        complete=True,
    )

    assert answer.is_complete


def test_where_no_link_is_required_a_file_or_the_description_alone_is_accepted(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    optional = (
        Criterion.objects.filter(mechanism__methodology=campaign.methodology, evidence_required=False)
        .order_by("mechanism__order", "component__order")
        .first()
    )
    attach(submission, optional, world.users["organizer"])

    answer = collection.answer_save(
        submission=submission,
        criterion=optional,
        by=world.users["organizer"],
        description="Порядок сбора данных описан здесь",
        links_text="",
        complete=True,
    )

    assert answer.is_complete


def fill_everything(campaign, submission, user):
    for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        collection.answer_save(
            submission=submission,
            criterion=c,
            by=user,
            description=f"Приказ по {c.code}",
            links_text=f"https://uo-kirov.ru/documents/{c.code}.pdf",
            complete=True,
        )
    for m in campaign.methodology.mechanisms.all():
        collection.analysis_save(
            submission=submission, mechanism=m, by=user, conclusions="Выводы", problems="Проблемы", measures="Меры"
        )


def test_submit_refuses_an_answer_completed_earlier_with_a_file_alone(campaign, world):
    organizer = world.users["organizer"]
    submission = campaign.submissions.get(municipality=world.municipality)
    fill_everything(campaign, submission, organizer)
    required = criterion(campaign, "1.1.2")
    attach(submission, required, organizer)
    # As the old rule left it: complete, its only evidence a file.
    EvidenceLink.objects.filter(answer__submission=submission, answer__criterion=required).delete()

    missing = collection.submission_missing(submission)
    with pytest.raises(CollectionError):
        collection.submission_submit(submission=submission, by=organizer, access=access_for(organizer))

    assert [m.criterion.code for m in missing] == ["1.1.2"]
    assert missing[0].problems[0] == gettext(
        "no link to the authority's website: this criterion needs a link to a page of the authority's site; an attached "
        "file is welcome as well but does not replace the link"
    )
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.DRAFT


# --- the flags on the pages ---------------------------------------------------------------------------------------


@pytest.fixture
def linked(campaign, world, kirov):
    """The own submission with 1.1.2 answered by one link on the authority's site and one elsewhere, unchecked."""
    submission = campaign.submissions.get(municipality=kirov)
    collection.answer_save(
        submission=submission,
        criterion=criterion(campaign, "1.1.2"),
        by=world.users["organizer"],
        description="Приказ об утверждении показателей",
        links_text=f"{ON_SITE}\n{OFF_SITE}",
        complete=True,
    )
    return submission


def marks(html):
    return html.count("data-off-site")


def flagged(html, url, end):
    """Whether the link to `url` carries the mark before its item ends (`end`: "</li>" in the form, "</div>"
    on the scoring pages)."""
    item = html[html.index(f'href="{url}"') :]
    return "data-off-site" in item[: item.index(end)]


def test_the_organizer_form_says_a_link_is_required_and_warns_under_a_link_off_the_site(linked, world, as_role):
    client = as_role(world, "organizer")

    html = client.get(reverse("submission_mechanism", args=["test-2026", "kirov", "1.1"])).content.decode()

    assert marks(html) == 1 and gettext(WARNING) in html
    assert flagged(html, OFF_SITE, "</li>") and not flagged(html, ON_SITE, "</li>")
    assert gettext("a link to a page of the authority's website is required") in html
    assert gettext("A link is not required here: a description is enough; links and files are welcome.") in html


def test_the_autosave_answer_carries_the_warning_for_the_script(linked, world, as_role):
    client = as_role(world, "organizer")

    response = client.post(
        reverse("answer_save", args=["test-2026", "kirov", "1.1.2"]),
        {"description": "Приказ", "links": f"{OFF_SITE}\n{ON_SITE}", "version": "1"},
        HTTP_ACCEPT="application/json",
    )

    links = response.json()["links"]
    assert [(link["url"], link["off_site"]) for link in links] == [(OFF_SITE, True), (ON_SITE, False)]
    assert links[0]["warning"] == gettext(WARNING) and links[1]["warning"] == ""


def test_the_coordinator_sees_the_mark_on_the_submission_and_scoring_pages(linked, world, as_role):
    Submission.objects.filter(pk=linked.pk).update(status=Submission.Status.SUBMITTED)
    client = as_role(world, "coordinator")

    detail = client.get(reverse("submission_detail", args=["test-2026", "kirov"])).content.decode()
    scoring = client.get(reverse("scoring_page", args=["test-2026", "kirov"])).content.decode()

    assert flagged(detail, OFF_SITE, "</li>") and 'data-links-off-site="1"' in detail
    assert marks(scoring) == 1 and gettext("outside the authority's website") in scoring
    assert flagged(scoring, OFF_SITE, "</div>") and not flagged(scoring, ON_SITE, "</div>")


def test_the_expert_sees_the_mark_on_the_review_page(linked, world, client):
    expert = AppointmentFactory(user=UserFactory(username="far"), role=Role.EXPERT, region=world.other_region).user
    Submission.objects.filter(pk=linked.pk).update(status=Submission.Status.IN_REVIEW)
    ReviewAssignment.objects.create(submission=linked, expert=expert, assigned_by=world.users["operator"])
    client.force_login(expert)

    html = client.get(reverse("expert_scoring", args=["test-2026", "kirov"])).content.decode()

    assert marks(html) == 1
    assert flagged(html, OFF_SITE, "</div>") and not flagged(html, ON_SITE, "</div>")


def test_without_a_website_on_record_nothing_is_flagged(campaign, world, as_role):
    submission = campaign.submissions.get(municipality=world.municipality)  # the factory gives no website
    collection.answer_save(
        submission=submission,
        criterion=criterion(campaign, "1.1.2"),
        by=world.users["organizer"],
        description="Приказ",
        links_text=OFF_SITE,
        complete=True,
    )

    form = as_role(world, "organizer").get(reverse("submission_mechanism", args=["test-2026", "kirov", "1.1"]))
    region = as_role(world, "coordinator").get(reverse("region_progress", args=["test-2026", world.region.code]))

    assert marks(form.content.decode()) == 0
    assert 'data-links-off-site="0"' in region.content.decode()


# --- the counts: «не проверены» before the checks, «проблемные» after ---------------------------------------


def region_page(client, world):
    response = client.get(reverse("region_progress", args=["test-2026", world.region.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_before_any_check_the_region_page_says_not_checked_never_zero_problems(linked, world, as_role):
    html = region_page(as_role(world, "coordinator"), world)

    assert not_checked(2) in html
    assert 'data-tally="problems"' not in html and with_problems(0) not in html
    assert outside(1) in html
    assert 'data-links-total="2" data-links-checked="0" data-links-problems="0" data-links-unchecked="2"' in html


def test_after_the_checks_the_region_and_submission_pages_say_how_many_have_problems(linked, world, as_role):
    now = timezone.now()
    EvidenceLink.objects.filter(answer__submission=linked, url=ON_SITE).update(state="ok", checked_at=now)
    EvidenceLink.objects.filter(answer__submission=linked, url=OFF_SITE).update(state="dead", checked_at=now)
    client = as_role(world, "coordinator")

    region = region_page(client, world)
    detail = client.get(reverse("submission_detail", args=["test-2026", "kirov"])).content.decode()

    for html in (region, detail):
        assert with_problems(1) in html and outside(1) in html
        assert not_checked(0) not in html and 'data-tally="unchecked"' not in html


def test_partly_checked_links_show_both_counts(linked, world, as_role):
    EvidenceLink.objects.filter(answer__submission=linked, url=ON_SITE).update(state="ok", checked_at=timezone.now())

    html = region_page(as_role(world, "coordinator"), world)

    assert with_problems(0) in html and not_checked(1) in html


def test_a_tally_counts_each_state_once():
    tally = LinkTally()
    for url, state in [(ON_SITE, "unchecked"), (OFF_SITE, "dead"), (ON_SITE, "failing"), (ON_SITE, "ok")]:
        tally.add(url, state, WEBSITE)

    assert (tally.total, tally.checked, tally.unchecked, tally.problems, tally.off_site) == (4, 3, 1, 2, 1)


def test_the_region_page_reads_links_in_a_fixed_number_of_queries(linked, campaign, world, as_role):
    client = as_role(world, "coordinator")
    region_page(client, world)
    with CaptureQueriesContext(connection) as few:
        region_page(client, world)
    sibling = campaign.submissions.get(municipality=world.sibling)
    for s in (linked, sibling):
        for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)[:40]:
            answer, _ = Answer.objects.get_or_create(submission=s, criterion=c)
            EvidenceLink.objects.bulk_create(
                EvidenceLink(answer=answer, url=url, position=i, state=state)
                for i, (url, state) in enumerate([(f"{ON_SITE}?{c.code}", "ok"), (f"{OFF_SITE}?{c.code}", "dead")])
            )
    assert link_tallies([linked.pk])[linked.pk].total > 80

    with CaptureQueriesContext(connection) as many:
        html = region_page(client, world)

    assert len(many.captured_queries) == len(few.captured_queries)
    assert 'data-links-off-site="41"' in html  # the fixture's one and 40 more; the sibling has no website


# --- the regional report and the Excel export ------------------------------------------------------------------


def test_the_regional_report_lists_links_off_the_site_and_not_checked(finalized, world, kirov):
    submission = finalized.submissions.get(municipality=kirov)
    answer = Answer.objects.create(submission=submission, criterion=criterion(finalized, "1.1.2"))
    EvidenceLink.objects.create(answer=answer, url=ON_SITE, position=0, state="ok")
    EvidenceLink.objects.create(answer=answer, url=OFF_SITE, position=1, state="unchecked")

    report = region_report(finalized, world.region)
    html = region_html(report)
    problems = next(s for s in region_sheets(report) if s.title == gettext("Problems"))

    mine = next(p for p in report.problems if p["municipality"] == kirov)
    assert (mine["broken"], mine["unchecked"], mine["off_site"]) == (0, 1, 1)
    assert gettext("Links outside the authority's website") in html and "data-off-site>1<" in html
    assert [kirov.name, mine["no_evidence"], 0, 1, 1] in [row[:5] for row in problems.rows]


def test_the_excel_export_names_the_links_off_the_site_and_still_imports_unchanged(linked, campaign, world):
    data = excel_export.export_workbook(campaign=campaign, municipalities=[linked.municipality])

    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "1.1.2")
    result = excel_import.import_workbook(
        data, campaign=campaign, user=world.users["coordinator"], access=access_for(world.users["coordinator"])
    )

    assert row[header.index("Ссылки вне сайта МОУО")] == OFF_SITE
    assert row[header.index("Ссылки")] == f"{ON_SITE}\n{OFF_SITE}"
    assert not result.changed


@pytest.mark.browser
def test_after_an_autosave_the_warning_stays_under_the_link_off_the_site(
    transactional_db, page, live_server, world, campaign
):
    world.municipality.website = WEBSITE
    world.municipality.save()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Логин").fill("t-organizer")
    page.get_by_label("Пароль").fill("correct-horse-9")
    page.get_by_role("button", name="Войти").click()

    page.goto(f"{live_server.url}/campaigns/{campaign.slug}/m/kirov/mechanisms/1.1/")
    block = page.locator("#c-1\\.1\\.2")
    block.locator("textarea[data-field=links]").fill(f"{ON_SITE}\n{OFF_SITE}")
    block.locator("[data-link-list] li").nth(1).wait_for()

    items = block.locator("[data-link-list] li")
    assert items.count() == 2
    assert items.nth(0).locator("[data-off-site]").count() == 0
    assert items.nth(1).locator("[data-off-site]").inner_text().strip() == gettext(WARNING)
    assert not page.console_errors, page.console_errors

"""The PDFs the product makes, as officials and screen readers get them (issue 17): tagged (PDF/UA-1) with a
language, a title, an author, a creator, a creation date and XMP metadata; words whole in the text layer (no
hyphen characters left by automatic hyphenation, so search and copy work); the running footer whole on every
page. Each kind of PDF is made through the task worker's path (`reports.tasks.report_run`) and read back with
poppler's pdfinfo and pdftotext, as a reviewer would."""

import re
import shutil
import subprocess
import zlib
from html import unescape

import pytest

from assessment.models import Answer, Criterion, EvidenceLink
from reports import documents, tasks
from reports.models import ReportJob

pytestmark = [
    pytest.mark.skipif(
        not (shutil.which("pdfinfo") and shutil.which("pdftotext")), reason="poppler-utils is not installed"
    ),
]

PDF_KINDS = [kind for kind in ReportJob.Kind if ReportJob(kind=kind).extension == "pdf"]
# What each kind of PDF is made for: a new kind of PDF must join this table (test_every_kind_of_pdf_is_checked).
SUBJECT = {ReportJob.Kind.REGION_PDF: "region", ReportJob.Kind.FEEDBACK_PDF: "municipality"}
# A real campaign's title (the 2023 demo campaign's, the longest of the demo) and a long municipality name:
# together they make a running footer of two lines.
TITLE = "Оценка муниципальных механизмов управления качеством образования, 2023 (иллюстративные данные)"
MUNICIPALITY = "Верхнекамский муниципальный округ"
# Long words each PDF holds, which automatic hyphenation used to break at the end of a line.
LONG_WORDS = {
    ReportJob.Kind.REGION_PDF: ["сформированности", "общеобразовательных", "муниципалитетов", "рекомендации"],
    ReportJob.Kind.FEEDBACK_PDF: ["муниципальных", "образования", "рекомендации", "мероприятия"],
}
A4_HEIGHT_PT = 841.89
A4_WIDTH_PT = 595.28
MM = 72 / 25.4

REGION_REPORT_QUERIES = 11  # documents.region_report on the test world (its docstring: a fixed number)
_made = {}  # kind → (pdf bytes, expected footer): each PDF is made once per test process, then only read


def _running(job):
    subject = job.region if job.region_id else job.municipality
    return f"{subject.name} · {job.campaign.title}"


@pytest.fixture
def made(finalized, world):
    """`made(kind)` → (the PDF of that kind, the running text its footer must show), made by the worker."""
    pytest.importorskip("weasyprint")
    finalized.title = TITLE
    finalized.save(update_fields=["title"])
    world.municipality.name = MUNICIPALITY
    world.municipality.save(update_fields=["name"])

    def make(kind):
        if kind not in _made:
            subject = {SUBJECT[kind]: world.region if SUBJECT[kind] == "region" else world.municipality}
            job = ReportJob.objects.create(kind=kind, campaign=finalized, results_key="pdf-quality", **subject)
            tasks.report_run(job)
            job.refresh_from_db()
            assert job.status == ReportJob.Status.DONE, job.error
            with job.file.open("rb") as f:
                _made[kind] = (f.read(), _running(job))
        return _made[kind]

    return make


def _run(*args, content):
    return subprocess.run(args, input=content, capture_output=True, check=True).stdout.decode()


def _info(content):
    info = {}
    for line in _run("pdfinfo", "-", content=content).splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def _page_text(content, page):
    return _run("pdftotext", "-f", str(page), "-l", str(page), "-", "-", content=content)


def _words_below(content, top_pt):
    """[(page, word, xMin, yMin, xMax, yMax)] of every word whose top is lower than `top_pt` from the page's top."""
    found = []
    html = _run("pdftotext", "-bbox", "-", "-", content=content)
    for number, page in enumerate(re.findall(r"<page .*?</page>", html, re.S), start=1):
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page
        ):
            if float(y0) > top_pt:
                found.append((number, unescape(word), float(x0), float(y0), float(x1), float(y1)))
    return found


def test_every_kind_of_pdf_is_checked():
    assert set(PDF_KINDS) == set(SUBJECT) == set(LONG_WORDS)


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_the_pdf_is_tagged_with_its_language_title_author_creator_and_date(made, world, kind):
    content, _running = made(kind)

    info = _info(content)
    xmp = _run("pdfinfo", "-meta", "-", content=content)
    structure = _run("pdfinfo", "-struct", "-", content=content)

    assert info["Tagged"] == "yes"
    assert info["PDF version"] == "1.7"
    assert (world.region.name if kind == ReportJob.Kind.REGION_PDF else MUNICIPALITY) in info["Title"]
    assert info["Author"] == world.region.name  # the test region has no quality centre: its name
    assert info["Creator"].startswith("МУКО")
    assert re.match(r"\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}", info["CreationDate"]), info["CreationDate"]
    assert info["ModDate"] == info["CreationDate"]
    # PDF/UA-1 declares itself in the XMP metadata, which repeats the title, author and dates.
    assert '<?xpacket begin=""' in xmp
    assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert info["Title"] in unescape(xmp) and world.region.name in unescape(xmp)
    assert re.search(r"<xmp:CreateDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d</xmp:CreateDate>", xmp)
    assert f"<xmp:CreatorTool>{info['Creator']}</xmp:CreatorTool>" in xmp
    # The structure tree names headings, tables and their cells for a screen reader.
    assert "H1" in structure and "Table" in structure and "TH" in structure and "TD" in structure


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_the_pdf_declares_its_language_in_the_catalog(made, kind):
    """A screen reader picks the Russian voice from the catalog's /Lang (WeasyPrint takes it from <html lang>)."""
    content, _running = made(kind)

    inflated = _uncompressed(content)

    assert re.search(rb"/Lang\s*\(ru\)", inflated), "no /Lang (ru) in the catalog"


def _uncompressed(content):
    """The PDF's bytes with every Flate stream inflated (object streams hold the catalog in PDF 1.5+)."""
    out = [content]
    for match in re.finditer(rb"stream\r?\n", content):
        try:
            out.append(zlib.decompressobj().decompress(content[match.end() : match.end() + 2_000_000]))
        except zlib.error:
            continue
    return b"\n".join(out)


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_words_stay_whole_in_the_text_layer(made, kind):
    content, _running = made(kind)

    text = _run("pdftotext", "-", "-", content=content)
    words = set(re.findall(r"\w+", text))

    assert "\u2010" not in text, re.findall(r"\w+\u2010\s*\w*", text)[:10]
    assert "\u00ad" not in text
    assert not re.findall(r"[а-яё]-\n[а-яё]", text)  # no word broken over two lines with a plain hyphen
    assert set(LONG_WORDS[kind]) <= words, set(LONG_WORDS[kind]) - words


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_the_running_footer_is_whole_on_every_page(made, kind):
    content, running = made(kind)
    pages = int(_info(content)["Pages"])

    texts = {page: " ".join(_page_text(content, page).split()) for page in range(2, pages + 1)}

    assert pages > 2
    for page, text in texts.items():
        assert f"Страница {page} из {pages}" in text, (page, text[-300:])
        assert running in text, (page, running, text[-300:])
        assert "…" not in text[-400:]


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_the_running_footer_lies_inside_the_bottom_margin(made, kind):
    """Every word of the footer, and nothing else, is drawn in the bottom margin (22 mm, base.html), at least
    5 mm from the edges of the sheet: none has wrapped up into the body or off the page."""
    content, running = made(kind)
    pages = int(_info(content)["Pages"])

    footer = _words_below(content, A4_HEIGHT_PT - 22 * MM)

    for page in range(2, pages + 1):
        words = [word for number, word, *_ in footer if number == page]
        assert sorted(words) == sorted(f"{running} Страница {page} из {pages}".split()), page
    assert not [number for number, *_ in footer if number == 1]  # the title page has no footer
    for page, word, x0, _y0, x1, y1 in footer:
        assert x0 > 5 * MM and x1 < A4_WIDTH_PT - 5 * MM, (page, word, x0, x1)
        assert y1 < A4_HEIGHT_PT - 5 * MM, (page, word, y1)


def test_the_footer_shows_a_title_with_quotes_and_an_ampersand_as_written(finalized, world):
    """The footer is an element of the document (position: running), not a CSS string the title is pasted into:
    quotes, an apostrophe and an ampersand are shown as written, never as HTML entities or a broken rule."""
    pytest.importorskip("weasyprint")
    finalized.title = "Оценка \"МУКО\" & 'пилот' <2026>"
    finalized.save(update_fields=["title"])
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.FEEDBACK_PDF, campaign=finalized, municipality=world.municipality, results_key="quotes"
    )

    tasks.report_run(job)

    job.refresh_from_db()
    with job.file.open("rb") as f:
        text = " ".join(_page_text(f.read(), 2).split())
    assert f"{world.municipality.name} · Оценка \"МУКО\" & 'пилот' <2026>" in text, text[-300:]
    assert "&quot;" not in text and "&amp;" not in text and "&#x27;" not in text


def test_criteria_without_evidence_count_answers_not_links(finalized, world, django_assert_num_queries):
    """«Критерии без ссылок-подтверждений» in the regional report: a criterion with two links is one criterion with
    evidence (the demo's reports showed -13: the links were counted instead of the criteria)."""
    submission = finalized.submissions.get(municipality=world.municipality)
    criteria = list(Criterion.objects.filter(mechanism__methodology=finalized.methodology).order_by("code")[:3])
    for n, criterion in enumerate(criteria, start=1):  # one, two and three links
        answer, _ = Answer.objects.get_or_create(submission=submission, criterion=criterion)
        EvidenceLink.objects.bulk_create(
            EvidenceLink(answer=answer, url=f"https://uo.example.ru/{criterion.code}/{i}.pdf", position=i)
            for i in range(n)
        )
    total = Criterion.objects.filter(mechanism__methodology=finalized.methodology).count()

    with django_assert_num_queries(REGION_REPORT_QUERIES):  # as many whatever the number of links
        report = documents.region_report(finalized, world.region)

    problems = {p["municipality"].pk: p["no_evidence"] for p in report.problems}
    assert problems == {world.municipality.pk: total - 3, world.sibling.pk: total}

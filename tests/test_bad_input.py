"""The bad-input corpus (tests/data/bad/, written by make_corpus.py) through every entry point: the Excel upload
page and the import command, attachments and materials, every text field, evidence links, the API's query
parameters and the public survey. Whatever comes in: never a 500, a clear Russian message, nothing half-saved,
and what is kept is shown escaped (pages, PDFs) or neutralised (spreadsheets)."""

import html
import importlib.util
import io
import json
import socket
import time
import tracemalloc
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from openpyxl import load_workbook

from assessment import excel_import, linkcheck
from assessment.collection import CollectionError, validate_upload
from assessment.forms import CampaignForm
from assessment.models import (
    Answer,
    Appeal,
    Attachment,
    Campaign,
    DeadlineExtension,
    EvidenceLink,
    Material,
    MechanismAnalysis,
    Score,
    StatusChange,
    Submission,
)
from municipalities.access import access_for

BAD = Path(__file__).parent / "data" / "bad"
_spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

STRINGS = json.loads((BAD / "strings.json").read_text(encoding="utf-8"))
URLS = json.loads((BAD / "urls.json").read_text(encoding="utf-8"))
NAMES = json.loads((BAD / "names.json").read_text(encoding="utf-8"))
SHORT = sorted(k for k in STRINGS if k != "long")  # what fits every text field


def fragment(msgid):
    """The longest fixed part of a message in Russian: for the messages added with this corpus, whose
    translation may still be missing from locale/ (then the English text is what is shown, and asserted)."""
    with translation.override("ru"):
        text = gettext(msgid) % defaultdict(lambda: "\x01")
    return max(text.split("\x01"), key=len).strip(" ;.:«»")


# The product's messages, in Russian as the users read them.
# The product's messages, in Russian as the users read them.
NOT_XLSX = "Это не книга Excel (.xlsx)"
DAMAGED = "Книга Excel повреждена, прочитать её невозможно."
MACROS = "Книга содержит макросы"
TOO_BIG = "после распаковки она занимает недопустимо большой объём"
TOO_MANY_ROWS = fragment("A sheet of the workbook has more than %(max)s rows.")
NOT_WEB = "не является веб-адресом"
INTERNAL = fragment("Line %(n)s: «%(url)s» points to an internal address; give a link to a public web page.")
NUL_REFUSED = "ноль-байт"
NOTHING_SAVED = "Ничего не сохранено"

BAD_WORKBOOKS = {
    "not-a-zip.xlsx": fragment(
        "This is a CSV text file, not an Excel workbook. Open it in Excel or LibreOffice, save it as "
        "«Excel Workbook (.xlsx)» and upload it again."
    ),
    "truncated.xlsx": DAMAGED,
    "zip-bomb.xlsx": TOO_BIG,
    "zip-bomb-forged-size.xlsx": DAMAGED,
    "macros.xlsm": MACROS,
    "macros-renamed.xlsx": MACROS,
    "broken-xml.xlsx": DAMAGED,
    "xxe.xlsx": DAMAGED,
    "billion-laughs.xlsx": DAMAGED,
    "rows-100000.xlsx": TOO_MANY_ROWS,
    "wrong-type-png.xlsx": NOT_XLSX,
    "wrong-type-pdf.xlsx": NOT_XLSX,
}

URL_MESSAGES = {
    **dict.fromkeys(
        ["javascript", "javascript_mixed_case", "data", "file", "hex_ip", "decimal_ip", "ftp", "spaces", "newline"],
        NOT_WEB,
    ),
    "nul": NOT_WEB,
    **dict.fromkeys(
        [
            "loopback",
            "localhost",
            "localhost_subdomain",
            "private",
            "private_192",
            "metadata",
            "ipv6_loopback",
            "ipv6_mapped",
            "unspecified",
            "credentials",
        ],
        INTERNAL,
    ),
    "long": "ссылка длиннее 2000 символов",
}

WRITES = [m for label in ("assessment", "surveys") for m in apps.get_app_config(label).get_models()]


# --- the one helper: no 500, the message shown, nothing written -------------------------------------------------


def counts():
    return {model._meta.label: model.objects.count() for model in WRITES}


@contextmanager
def nothing_written():
    before = counts()
    yield
    after = counts()
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def shown(response):
    """What the user reads: the page's text with entities resolved, or the JSON with its letters."""
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return html.unescape(response.content.decode())


def refused(send, *messages, status=(200, 400)):
    """Send one bad request (`send()` returns the response): never a 500, an expected status, every message
    shown, not a row written anywhere in the product."""
    with nothing_written():
        response = send()
    assert response.status_code in status, (response.status_code, shown(response)[:500])
    text = shown(response)
    for message in messages:
        assert message in text, f"{message!r} is not shown"
    return response


def escaped(response, value):
    """`value` is on the page, escaped: its markup never reaches the browser as markup."""
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(value) in page
    if "<" in value:
        assert value not in page


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def submission(campaign, world):
    return campaign.submissions.get(municipality=world.municipality)


# --- the Excel upload page and the import command -----------------------------------------------------------------


def import_url(campaign):
    return reverse("region_import", args=[campaign.slug, "43"])


@pytest.mark.parametrize("name", sorted(BAD_WORKBOOKS))
def test_a_bad_workbook_is_refused_by_the_upload_page_and_the_command(name, campaign, world, as_role):
    client = as_role(world, "coordinator")
    data = (BAD / name).read_bytes()
    err = io.StringIO()

    started = time.monotonic()
    response = refused(
        lambda: client.post(import_url(campaign), {"file": upload(name, data)}), BAD_WORKBOOKS[name], status=(400,)
    )
    elapsed = time.monotonic() - started
    with nothing_written(), pytest.raises(CommandError):
        call_command("import_forms", campaign.slug, str(BAD / name), "--user", "t-coordinator", stderr=err)

    assert elapsed < 10
    assert 'class="alert alert-danger"' in response.content.decode()
    assert BAD_WORKBOOKS[name] in err.getvalue()


def test_an_empty_or_oversize_workbook_is_refused_before_it_is_read(campaign, world, as_role, settings):
    client = as_role(world, "coordinator")
    big = (BAD / "good.xlsx").read_bytes()
    big += bytes(settings.IMPORT_MAX_BYTES + 1 - len(big))
    err = io.StringIO()

    refused(lambda: client.post(import_url(campaign), {"file": upload("empty.xlsx", b"")}), "Отправленный файл пуст.")
    refused(lambda: client.post(import_url(campaign), {"file": upload("big.xlsx", big)}), "превышает 20 МБ")
    with nothing_written(), pytest.raises(CommandError):
        call_command("import_forms", campaign.slug, str(BAD / "empty.xlsx"), "--user", "t-coordinator", stderr=err)

    assert NOT_XLSX in err.getvalue()


@pytest.mark.parametrize("name", ["zip-bomb.xlsx", "zip-bomb-forged-size.xlsx", "rows-100000.xlsx"])
def test_bombs_are_refused_in_bounded_time_and_memory(name, campaign, world):
    user = world.users["coordinator"]
    data = (BAD / name).read_bytes()

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(excel_import.ImportRejected) as rejected:
            excel_import.import_workbook(data, campaign=campaign, user=user, access=access_for(user))
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert BAD_WORKBOOKS[name] in rejected.value.errors[0]
    assert elapsed < 10 and peak < 64 * 2**20, (elapsed, peak)


def test_the_good_corpus_form_imports_so_the_refusals_are_about_the_hostile_part(campaign, world, as_role):
    client = as_role(world, "coordinator")

    response = client.post(import_url(campaign), {"file": upload("good.xlsx", (BAD / "good.xlsx").read_bytes())})

    assert response.status_code == 302
    answer = Answer.objects.get(submission__municipality=world.municipality, criterion__code="1.1.1")
    assert answer.description == "Приказ управления образования № 12"


def test_formula_injection_is_stored_as_text_and_exported_neutralised(campaign, world, as_role):
    client = as_role(world, "coordinator")
    data = (BAD / "formula-injection.xlsx").read_bytes()

    response = client.post(import_url(campaign), {"file": upload("f.xlsx", data)})
    exported = client.get(reverse("region_export", args=[campaign.slug, "43"]))
    again = client.post(import_url(campaign), {"file": upload("again.xlsx", exported.content)}, follow=True)

    assert response.status_code == 302
    stored = dict(
        Answer.objects.filter(submission__municipality=world.municipality)
        .exclude(description="")
        .values_list("criterion__code", "description")
    )
    assert stored == {code: text.strip() for code, text in corpus.FORMULAS.items()}
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any(b"<f>" in xml or b"<f " in xml for xml in sheets)  # not one formula in the file
    cells = {row[0].value: row[5] for row in load_workbook(io.BytesIO(exported.content))["город Киров"]}
    for code, text in stored.items():  # text, marked as text («'» in Excel), the same characters
        assert cells[code].data_type == "s" and cells[code].quotePrefix and cells[code].value == text
    assert "ничего не изменилось" in shown(again)  # the neutralised export imports back unchanged


# --- attachments, materials and the names given to uploads ---------------------------------------------------------

BAD_FILES = {
    "png-named.pdf": "на самом деле не является файлом PDF",
    "script.html": "Файлы такого типа прикреплять нельзя",
    "image.svg": "Файлы такого типа прикреплять нельзя",
    "macros.xlsm": "Файлы такого типа прикреплять нельзя",
    "wrong-type-pdf.xlsx": "на самом деле не является файлом XLSX",
    "not-a-zip.xlsx": "на самом деле не является файлом XLSX",
    "empty.xlsx": "пуст",
}


def attach_url(campaign, code="1.1.1"):
    return reverse("attachment_upload", args=[campaign.slug, "kirov", code])


def material_data(**fields):
    return {"kind": "document", "title": "Инструкция", "body": "", "url": "", "order": "0", **fields}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_as_an_attachment_and_as_a_material(name, campaign, world, as_role):
    data = (BAD / name).read_bytes()
    organizer = as_role(world, "organizer")
    refused(lambda: organizer.post(attach_url(campaign), {"file": upload(name, data)}, follow=True), BAD_FILES[name])

    operator = as_role(world, "operator")
    materials = reverse("campaign_materials", args=[campaign.slug])
    response = refused(lambda: operator.post(materials, material_data(file=upload(name, data))), BAD_FILES[name])

    assert "file" in response.context["form"].errors


class Upload:
    """An upload whose name no HTTP parser has cleaned (Django's own keep only the last part of a path)."""

    def __init__(self, name, data):
        self.name, self.size, self._file = name, len(data), io.BytesIO(data)
        self.read, self.seek = self._file.read, self._file.seek


@pytest.mark.parametrize("key", ["traversal", "traversal_windows", "absolute", "nul", "dotfile"])
def test_a_path_in_an_upload_name_is_refused_with_a_message(key):
    with pytest.raises(CollectionError) as refused_name:
        validate_upload(Upload(NAMES[key], corpus.pdf()))

    assert "Имя файла не должно содержать путь" in refused_name.value.message


def test_an_oversize_attachment_is_refused(campaign, world, as_role, settings):
    client = as_role(world, "organizer")
    data = b"%PDF-1.4\n" + bytes(settings.UPLOAD_MAX_BYTES)

    refused(
        lambda: client.post(attach_url(campaign), {"file": upload("big.pdf", data)}, follow=True), "превышает 10 МБ"
    )


@pytest.mark.parametrize("key", sorted(NAMES))
def test_a_name_given_at_upload_never_becomes_a_path(key, campaign, world, as_role):
    """Kept under a plain name in the upload's own folder, shown escaped, or refused with a message."""
    name = NAMES[key]
    data = (BAD / "good.xlsx").read_bytes() if name.endswith(".xlsx") else corpus.pdf()
    attachments = set(Attachment.objects.values_list("pk", flat=True))
    materials = set(Material.objects.values_list("pk", flat=True))

    organizer = as_role(world, "organizer")
    page = organizer.post(attach_url(campaign), {"file": upload(name, data)}, follow=True)
    assert page.status_code == 200
    added = Attachment.objects.exclude(pk__in=attachments)
    for attachment in added:
        assert not {"/", "\\", "\x00"} & set(attachment.original_name)
        assert not attachment.original_name.startswith(".") and ".." not in attachment.original_name
        assert attachment.file.name.startswith("evidence/") and ".." not in attachment.file.name
        escaped(page, attachment.original_name)
    if not added:
        assert any(m.level_tag == "error" for m in page.context["messages"])

    operator = as_role(world, "operator")
    response = operator.post(
        reverse("campaign_materials", args=[campaign.slug]), material_data(file=upload(name, data))
    )
    added = list(Material.objects.exclude(pk__in=materials))
    if response.status_code == 302:  # kept: exactly one material, checked below
        assert len(added) == 1
    else:  # refused: nothing kept, and the form says why by the file field
        assert response.status_code in (200, 400) and not added
        assert "file" in response.context["form"].errors
    for material in added:
        stored = material.file.name
        assert stored.startswith("materials/") and ".." not in stored and "\x00" not in stored
        assert len(Path(stored).name.encode()) <= 255  # a name the file system can hold
        download = operator.get(reverse("material_file", args=[campaign.slug, material.pk]))
        assert download.status_code == 200 and b"".join(download.streaming_content) == data

    coordinator = as_role(world, "coordinator")  # the name of an uploaded workbook plays no part
    response = coordinator.post(import_url(campaign), {"file": upload(name, (BAD / "good.xlsx").read_bytes())})
    assert response.status_code == 302


# --- text fields: kept as typed (or refused by a rule), shown escaped everywhere ---------------------------------------


def mechanism_url(campaign, code="kirov", mechanism="1.1"):
    return reverse("submission_mechanism", args=[campaign.slug, code, mechanism])


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_the_primary_data_form_keeps_hostile_text_and_shows_it_escaped(key, campaign, world, as_role):
    """The same text through the form without JavaScript, its autosave and the Excel import."""
    organizer = as_role(world, "organizer")
    value = STRINGS[key]
    kept = value.replace("\x00", "")
    form = {"c-1.1.1-description": value, "analysis-conclusions": value, "analysis-problems": value}
    autosave = reverse("answer_save", args=[campaign.slug, "kirov", "1.1.2"])
    workbook = corpus.xlsx_bytes(corpus.sheet_xml(corpus.form({"1.1.3": (value, "https://uo.example.ru/a.pdf")})))

    if key == "long":
        too_long = "Описание длиннее 10000 символов"
        refused(lambda: organizer.post(mechanism_url(campaign), form), too_long, NOTHING_SAVED, status=(400,))
        response = refused(
            lambda: organizer.post(autosave, {"description": value}, HTTP_ACCEPT="application/json"),
            too_long,
            status=(400,),
        )
        assert response.json()["fields"] == ["description"]
        coordinator = as_role(world, "coordinator")
        refused(
            lambda: coordinator.post(import_url(campaign), {"file": upload("s.xlsx", workbook)}),
            "длиннее 10000 символов",
            status=(400,),
        )
        return
    assert organizer.post(mechanism_url(campaign), form).status_code == 302
    assert organizer.post(autosave, {"description": value}, HTTP_ACCEPT="application/json").json()["ok"]

    def description(code):
        return Answer.objects.get(submission__municipality=world.municipality, criterion__code=code).description

    assert description("1.1.1") == description("1.1.2") == kept
    assert MechanismAnalysis.objects.get(submission__municipality=world.municipality).conclusions == kept
    escaped(organizer.get(mechanism_url(campaign)), kept)
    coordinator = as_role(world, "coordinator")
    escaped(coordinator.get(mechanism_url(campaign)), kept)
    imported = coordinator.post(import_url(campaign), {"file": upload("s.xlsx", workbook)})
    if key == "nul":  # XML cannot carry a NUL: the workbook is a damaged one
        assert imported.status_code == 400 and DAMAGED in shown(imported)
        return
    assert imported.status_code == 302 and description("1.1.3") == value
    escaped(coordinator.get(mechanism_url(campaign)), value)


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_scoring_comments_return_and_extension_reasons_are_kept_and_shown_escaped(key, campaign, world, as_role):
    Submission.objects.filter(campaign=campaign, municipality__region=world.region).update(status="submitted")
    coordinator = as_role(world, "coordinator")
    value = STRINGS[key]
    scoring = reverse("scoring_page", args=[campaign.slug, "kirov"])
    back = reverse("submission_return", args=[campaign.slug, "kumeny"])
    extend = reverse("submission_extend", args=[campaign.slug, "kumeny"])
    until = (timezone.localdate() + timedelta(days=20)).isoformat()  # before the expert review ends

    if key == "long":
        refused(lambda: coordinator.post(scoring, {"p-1.1.1": "1", "c-1.1.1": value}), "Комментарий длиннее 5000")
        refused(lambda: coordinator.post(back, {"reason": value}, follow=True), "не более 5000 символов")
        refused(lambda: coordinator.post(extend, {"until": until, "reason": value}, follow=True), "не более 1000")
        return
    kept = value.replace("\x00", "")
    assert coordinator.post(scoring, {"p-1.1.1": "1", "c-1.1.1": value}).status_code == 302
    assert Score.objects.get(submission__municipality=world.municipality, is_current=True).comment == kept
    escaped(coordinator.get(scoring), kept)
    card = coordinator.get(reverse("api-municipality", args=[campaign.slug, "kirov"])).json()
    assert next(c for c in card["criteria"] if c["code"] == "1.1.1")["explanation"]["reason"] == kept

    if key == "nul":  # the reasons are Django forms: a NUL is refused there, with its own message
        refused(lambda: coordinator.post(back, {"reason": value}, follow=True), NUL_REFUSED)
        refused(lambda: coordinator.post(extend, {"until": until, "reason": value}, follow=True), NUL_REFUSED)
        return
    coordinator.post(back, {"reason": value})
    coordinator.post(extend, {"until": until, "reason": value})
    assert StatusChange.objects.get(submission__municipality=world.sibling, new="returned").reason == value
    assert DeadlineExtension.objects.get(submission__municipality=world.sibling).reason == value
    escaped(coordinator.get(reverse("submission_detail", args=[campaign.slug, "kumeny"])), value)


def campaign_post_data(campaign):
    form = CampaignForm(instance=campaign)
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            data[name] = "on" if value else ""
        elif value is not None:
            data[name] = str(value)
    return data


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_appeals_campaign_and_material_titles_are_kept_and_shown_escaped_in_pages_and_pdfs(
    key, finalized, world, as_role
):
    from reports import documents

    value = STRINGS[key]
    organizer, operator = as_role(world, "organizer"), None
    appeal = reverse("appeal_form", args=[finalized.slug, "kirov"])
    edit = reverse("campaign_edit", args=[finalized.slug])
    materials = reverse("campaign_materials", args=[finalized.slug])
    data = {**campaign_post_data(finalized), "title": value}

    if key == "long":
        refused(lambda: organizer.post(appeal, {"a-1.1.1": value}), "Текст длиннее 5000 символов")
    else:
        assert organizer.post(appeal, {"a-1.1.1": value}).status_code == 302
        assert Appeal.objects.get().argument == value.replace("\x00", "")
        escaped(
            organizer.get(reverse("submission_detail", args=[finalized.slug, "kirov"])), Appeal.objects.get().argument
        )
    operator = as_role(world, "operator")
    if key in ("long", "nul"):  # the titles are Django forms: too long, or a NUL, is refused with a message
        message = "не более 300 символов" if key == "long" else NUL_REFUSED
        refused(lambda: operator.post(edit, data), message)
        refused(lambda: operator.post(materials, material_data(kind="faq", title=value, body="Ответ")), message)
        return
    escaped(operator.get(reverse("appeal_queue")), value)
    assert operator.post(edit, data).status_code == 302
    assert operator.post(materials, material_data(kind="faq", title=value, body=value)).status_code == 302

    assert Campaign.objects.get(pk=finalized.pk).title == value
    for page in ("campaign_list", "campaign_detail", "campaign_materials", "ranking"):
        escaped(operator.get(reverse(page, args=[] if page == "campaign_list" else [finalized.slug])), value)
    campaign = Campaign.objects.get(pk=finalized.pk)
    for document in (  # the HTML the PDFs are laid out from
        documents.region_html(documents.region_report(campaign, world.region)),
        documents.feedback_html(campaign, world.municipality),
    ):
        assert escape(value) in document
        if "<" in value:
            assert value not in document


# --- evidence links ----------------------------------------------------------------------------------------------


@pytest.fixture
def no_connections(monkeypatch):
    """The checker may resolve numeric hosts and localhost, never reach the network, never open a connection."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("localhost", "admin.localhost"):
            return real("127.0.0.1", *args, **kwargs)
        try:
            return real(host, *args, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, "not resolved in tests") from None

    def connect(*args, **kwargs):
        raise AssertionError(f"the link checker opened a connection: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", connect)


@pytest.mark.parametrize("key", sorted(URLS))
def test_a_bad_link_is_refused_everywhere_with_nothing_saved_and_never_fetched(
    key, campaign, world, as_role, no_connections
):
    url, message = URLS[key], URL_MESSAGES[key]
    organizer = as_role(world, "organizer")
    form = {"c-1.1.1-description": "Приказ", "c-1.1.1-links": url, "c-1.1.2-description": "Тоже"}
    response = refused(lambda: organizer.post(mechanism_url(campaign), form), message, status=(400,))
    block = next(b for b in response.context["blocks"] if b["criterion"].code == "1.1.1")
    assert message in block["error"]  # the message sits by the field it is about

    autosave = reverse("answer_save", args=[campaign.slug, "kirov", "1.1.1"])
    response = refused(
        lambda: organizer.post(autosave, {"description": "Приказ", "links": url}, HTTP_ACCEPT="application/json"),
        message,
        status=(400,),
    )
    assert response.json()["fields"] == ["links"]

    if key != "nul":  # XML cannot carry a NUL (such a workbook is refused as damaged)
        coordinator = as_role(world, "coordinator")
        workbook = corpus.xlsx_bytes(corpus.sheet_xml(corpus.form({"1.1.1": ("Приказ", url)})))
        refused(
            lambda: coordinator.post(import_url(campaign), {"file": upload("u.xlsx", workbook)}),
            "Лист «город Киров», строка 2, «Ссылки»",
            message,
            status=(400,),
        )

    operator = as_role(world, "operator")
    materials = reverse("campaign_materials", args=[campaign.slug])
    response = refused(lambda: operator.post(materials, material_data(kind="link", url=url)))
    assert "url" in response.context["form"].errors

    if key != "nul":  # a link stored before the rule (or by hand): the checker refuses it without a connection
        answer = Answer.objects.get(submission__municipality=world.municipality, criterion__code="1.1.1")
        link = EvidenceLink.objects.create(answer=answer, url=url[:2000])
        linkcheck.check_links([link.pk], "saved")
        link.refresh_from_db()
        if message == INTERNAL:
            assert link.state == EvidenceLink.State.REFUSED
        else:  # not http(s), or a name that does not resolve here
            assert link.state in (EvidenceLink.State.REFUSED, EvidenceLink.State.FAILING)


def test_public_links_are_still_accepted(campaign, world, as_role):
    client = as_role(world, "organizer")
    url = reverse("answer_save", args=[campaign.slug, "kirov", "1.1.1"])
    links = "https://93.184.216.34/a.pdf\nhttp://[2a00:1450:4010:c05::64]/b\nhttps://uo.example.ru/мой-приказ.pdf"

    response = client.post(url, {"links": links}, HTTP_ACCEPT="application/json")

    assert response.status_code == 200 and len(response.json()["links"]) == 3


# --- the API's query parameters ---------------------------------------------------------------------------------

HOSTILE_PARAMS = {
    "limit": ["-1", "1e3", "99999999999999999999", "abc", "５", "٣", "1 OR 1=1", "0x10", "\x00", " ", "5001", "0"],
    "offset": ["-1", "99999999999999999999", "1.5", "\x00", "😀", "999999999"],
    "sort": ["rank; DROP TABLE reports_result", "__class__", "-", "<script>", "\x00", "municipality__name"],
    "region": ["<script>alert(1)</script>", "\x00", "43' OR '1'='1", "ж" * 1000, "../43", "%", "43"],
    "level": ["<script>", "\x00", "formed", "FORMED", "ж" * 1000],
    "kind": ["\x00", "<b>", "city_district"],
    "q": ["\x00", "%", "_", "я" * 101, "<script>alert(1)</script>", "'; DROP TABLE x; --", "\u202e", "😀"],
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PARAMS))
def test_hostile_query_parameters_get_a_400_with_a_message_or_a_valid_answer(name, finalized, world, as_role):
    client = as_role(world, "operator")
    api = reverse("api-ranking", args=[finalized.slug])
    page = reverse("ranking", args=[finalized.slug])

    for value in HOSTILE_PARAMS[name]:
        with nothing_written():
            response = client.get(api, {name: value})
            html_page = client.get(page, {name: value})
        assert response.status_code in (200, 400, 404), (name, value, response.status_code)
        body = response.json()
        if response.status_code == 400:
            assert body["errors"] and all(isinstance(e, str) and e for e in body["errors"]), body
        elif response.status_code == 404:
            assert body["detail"]
        else:
            assert isinstance(body["results"], list) and body["count"] >= 0
        assert html_page.status_code in (200, 400, 404), (name, value, html_page.status_code)
        if "<" in value:
            assert value not in html_page.content.decode()


# --- the public survey ------------------------------------------------------------------------------------------

CLOSED = {
    "single": "Выберите один из предложенных вариантов.",
    "yesno": "Выберите один из предложенных вариантов.",
    "scale": "Выберите один из предложенных вариантов.",
    "multiple": "Выберите только из предложенных вариантов.",
    "number": "Введите целое число.",
}


@pytest.fixture
def survey(survey_campaign, world):
    from surveys import answers as A
    from surveys import services
    from surveys.models import Invitation, Respondent

    invitation = Invitation.objects.get(campaign=survey_campaign, school=world.school, role=Respondent.DIRECTOR)
    pages = A.pages(services.questions_of(survey_campaign, invitation.role))

    def where(kind):
        q = next(q for p in pages for q in p.questions if q.kind == kind and not q.depends_on_id)
        return q, next(p.number for p in pages if q in p.questions)

    return invitation, where


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_hostile_survey_answers_are_refused_on_closed_questions_and_kept_escaped_as_free_text(key, survey, client):
    from surveys.models import Draft

    invitation, where = survey
    url = reverse("survey", args=[invitation.token])
    value = STRINGS[key]
    for kind, message in CLOSED.items():
        q, page = where(kind)
        response = refused(
            lambda q=q, page=page: client.post(url, {"page": str(page), "action": "save", f"q-{q.code}": value}),
            message,
            status=(400,),
        )
        if "<" in value:
            assert value not in response.content.decode()
    q, page = where("single")
    autosave = reverse("survey_autosave", args=[invitation.token])
    refused(lambda: client.post(autosave, {"page": str(page), f"q-{q.code}": value}), status=(400,))

    q, page = where("text")
    send = lambda: client.post(url, {"page": str(page), "action": "save", f"q-{q.code}": value})  # noqa: E731
    if len(value) > q.max_length:
        refused(send, "Ответ слишком длинный", status=(400,))
        return
    assert send().status_code == 302
    kept = value.replace("\x00", "")
    assert Draft.objects.get(invitation=invitation).answers[q.code] == kept
    escaped(client.get(url, {"p": page}), kept)


def test_a_forged_survey_page_or_action_is_never_a_500(survey, client):
    invitation, _where = survey
    url = reverse("survey", args=[invitation.token])

    for fields in [
        {"page": "<script>alert(1)</script>"},
        {"page": "9" * 40},
        {"page": "-5"},
        {"page": "\x00"},
        {"page": "1", "action": "<script>alert(1)</script>"},
        {"page": "1", "action": "submit", "q-nonexistent": "x"},
    ]:
        response = client.post(url, fields)
        assert response.status_code in (200, 302, 400), fields
        assert "<script>alert(1)</script>" not in response.content.decode()


def test_survey_free_text_is_shown_escaped_to_the_staff(survey_campaign, world, as_role):
    import random

    from fixtures.demo_surveys import _answer_set
    from surveys import answers as A
    from surveys import services
    from surveys.models import PUBLICATION_STEP, Invitation, Respondent
    from tests.factories import SchoolFactory

    # Answers are published in steps of PUBLICATION_STEP: plain ones after the hostile ones complete the last step.
    texts = [STRINGS[key] for key in SHORT] + ["Обычный ответ"] * PUBLICATION_STEP
    for _text in texts:
        SchoolFactory(municipality=world.municipality)
    services.invitations_create(campaign=survey_campaign)
    invitations = Invitation.objects.filter(
        campaign=survey_campaign, school__municipality=world.municipality, role=Respondent.DIRECTOR
    ).order_by("pk")
    questions = services.questions_of(survey_campaign, Respondent.DIRECTOR)
    text = next(q for q in questions if q.kind == A.TEXT and not q.depends_on_id)
    for invitation, said in zip(invitations, texts, strict=False):
        answers = {**_answer_set(questions, random.Random(1), 1.0), text.code: said}
        submitted = QueryDict(mutable=True)
        for code, value in answers.items():
            submitted.setlist(f"q-{code}", [str(v) for v in value] if isinstance(value, list) else [str(value)])
        services.response_submit(invitation=invitation, questions=questions, submitted=submitted, page_questions=[])

    page = as_role(world, "coordinator").get(reverse("survey_evidence", args=[survey_campaign.slug, "kirov"]))

    for key in SHORT:
        escaped(page, STRINGS[key].replace("\x00", ""))


# --- numbers and ids a form sends back; who may learn what the pre-scoring lacks -----------------------------------

DAMAGED_FORM = fragment("The form was sent damaged: reload the page and try again.")
WHOLE_NUMBER = fragment("Enter a whole number from 0 to %(max)s.")
FORGED_NUMBERS = ["abc", "1.5", "٣", "9" * 30, "1\x00"]  # ٣ is a digit to int(), not to a database


@pytest.mark.parametrize("version", FORGED_NUMBERS)
def test_a_damaged_version_is_refused_with_a_message_by_every_save(version, campaign, world, as_role):
    organizer = as_role(world, "organizer")
    answer = reverse("answer_save", args=[campaign.slug, "kirov", "1.1.1"])
    analysis = reverse("analysis_save", args=[campaign.slug, "kirov", "1.1"])
    page, accept = mechanism_url(campaign), {"HTTP_ACCEPT": "application/json"}

    saved = refused(
        lambda: organizer.post(answer, {"description": "Приказ", "version": version}, **accept),
        DAMAGED_FORM,
        status=(400,),
    )
    analysed = refused(
        lambda: organizer.post(analysis, {"conclusions": "Вывод", "version": version}), DAMAGED_FORM, status=(400,)
    )
    refused(
        lambda: organizer.post(page, {"c-1.1.1-description": "Приказ", "c-1.1.1-version": version}),
        DAMAGED_FORM,
        NOTHING_SAVED,
        status=(400,),
    )
    refused(
        lambda: organizer.post(page, {"analysis-conclusions": "Вывод", "analysis-version": version}),
        DAMAGED_FORM,
        NOTHING_SAVED,
        status=(400,),
    )

    assert saved.json()["fields"] == analysed.json()["fields"] == ["version"]


@pytest.mark.parametrize("value", FORGED_NUMBERS)
def test_damaged_points_or_score_ids_on_the_scoring_pages_are_refused_with_a_message(value, campaign, world, as_role):
    from assessment.models import ReviewAssignment

    Submission.objects.filter(campaign=campaign, municipality=world.municipality).update(status="submitted")
    Submission.objects.filter(campaign=campaign, municipality=world.other_municipality).update(status="in_review")
    ReviewAssignment.objects.create(
        submission=campaign.submissions.get(municipality=world.other_municipality),
        expert=world.users["expert"],
        assigned_by=world.users["operator"],
    )
    coordinator = as_role(world, "coordinator")
    scoring = reverse("scoring_page", args=[campaign.slug, "kirov"])
    refused(lambda: coordinator.post(scoring, {"p-1.1.1": "1", "s-1.1.1": value}), DAMAGED_FORM, status=(400,))
    refused(lambda: coordinator.post(scoring, {"p-1.1.1": value}), WHOLE_NUMBER, status=(400,))

    expert = as_role(world, "expert")
    scoring = reverse("expert_scoring", args=[campaign.slug, "elista"])
    data = {"p-1.1.1": "1", "c-1.1.1": "Приказ не найден"}
    refused(lambda: expert.post(scoring, {**data, "s-1.1.1": value}), DAMAGED_FORM, status=(400,))
    refused(lambda: expert.post(scoring, {**data, "p-1.1.1": value}), WHOLE_NUMBER, status=(400,))


@pytest.mark.parametrize("value", ["", *FORGED_NUMBERS])
def test_a_forged_id_on_assignment_and_reconciliation_is_a_404(value, campaign, world, as_role):
    submission = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=submission.pk).update(status="in_review")
    operator = as_role(world, "operator")
    assign = reverse("experts_assign", args=[campaign.slug])
    reconcile = reverse("reconcile", args=[campaign.slug])
    final = {"criterion": "1.1.1", "points": "1", "reason": "Эксперты разошлись"}

    for url, data in [
        (assign, {"submission": value, "expert": str(world.users["expert"].pk)}),
        (assign, {"submission": str(submission.pk), "expert": value}),
        (reconcile, {**final, "submission": value}),
        (reconcile, {**final, "submission": str(submission.pk), "criterion": f"1.1.1{value}\x00"}),
    ]:
        refused(lambda url=url, data=data: operator.post(url, data), status=(404,))


def test_only_who_may_pre_score_learns_which_criteria_the_pre_scoring_lacks(campaign, world, as_role):
    """The organizer (or the deputy, the ministry, the assigned expert) who posts "pre-scoring complete" is
    refused for the role before anything is counted: the refusal never names the criteria not yet scored."""
    from assessment.models import Criterion, ReviewAssignment

    submission = campaign.submissions.get(municipality=world.municipality)
    Submission.objects.filter(pk=submission.pk).update(status="submitted")
    ReviewAssignment.objects.create(
        submission=submission, expert=world.users["expert"], assigned_by=world.users["operator"]
    )
    Score.objects.create(
        submission=submission,
        criterion=Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1"),
        round=Score.Round.PRESCORE,
        points=1,
        by=world.users["coordinator"],
    )
    url = reverse("prescore_complete", args=[campaign.slug, "kirov"])
    lacking = fragment("Not every criterion has points yet: %(codes)s.")

    for role in ("organizer", "deputy", "ministry", "expert"):
        response = refused(lambda role=role: as_role(world, role).post(url, follow=True), status=(403,))
        assert lacking not in shown(response) and "1.1.2" not in shown(response), role
    coordinator = refused(lambda: as_role(world, "coordinator").post(url, follow=True), lacking, status=(200,))

    assert "1.1.2" in shown(coordinator)  # the one who pre-scores is told what is left

"""Spreadsheets that are not an .xlsx workbook, given to the Excel import, are each refused with a message that
says what they are and how to save them as .xlsx; the type is read from the content, never from the name. And
every file input names the types it accepts.

tests/data/region-43.{ods,xls,csv} are real LibreOffice files: the first sheet of an exported workbook
(libreoffice-region-43.xlsx) cut to 6 criteria, saved by `soffice --headless --convert-to ods|xls|csv` (the CSV
with the filter options 59,34,76,1: `;`, UTF-8); region-43-password.xlsx is the same .xlsx saved with the
password "muko" (msoffcrypto-tool's OOXMLFile.encrypt, the agile encryption of Excel 2010–365)."""

import io
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext

from assessment import excel_import
from assessment.models import Answer, EvidenceLink, Score
from municipalities.access import access_for

DATA = Path(__file__).parent / "data"
XLSX_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ODS = (
    "This is an OpenDocument spreadsheet (.ods). Save it in LibreOffice as «Excel 2007–365 (.xlsx)» "
    "and upload it again."
)
XLS = (
    "This is a workbook in the old Excel 97–2003 format (.xls). Open it in Excel or LibreOffice, save it as "
    "«Excel Workbook (.xlsx)» and upload it again."
)
CSV = (
    "This is a CSV text file, not an Excel workbook. Open it in Excel or LibreOffice, save it as "
    "«Excel Workbook (.xlsx)» and upload it again."
)
PASSWORD = "The workbook is protected with a password. Remove the password, save the workbook and upload it again."
NOT_XLSX = "This is not an Excel workbook (.xlsx). Save the file as «Excel Workbook (.xlsx)» and upload it again."
OTHER_ZIP = "This is not an Excel workbook (.xlsx), only a ZIP archive with another content."


def _zip(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if name == "mimetype" else None)
    return out.getvalue()


def files():
    csv = (DATA / "region-43.csv").read_bytes()
    return {
        "region-43.ods": ((DATA / "region-43.ods").read_bytes(), ODS),
        "ods-renamed.xlsx": ((DATA / "region-43.ods").read_bytes(), ODS),
        "region-43.xls": ((DATA / "region-43.xls").read_bytes(), XLS),
        "xls-renamed.xlsx": ((DATA / "region-43.xls").read_bytes(), XLS),
        "region-43.csv": (csv, CSV),
        "excel-cp1251.csv": (csv.decode("utf-8").replace('"', "").encode("cp1251"), CSV),
        "with-bom-tabs.csv": (b"\xef\xbb\xbf" + csv.decode().replace(";", "\t").encode(), CSV),
        "region-43-password.xlsx": ((DATA / "region-43-password.xlsx").read_bytes(), PASSWORD),
        "text.odt": (_zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}), OTHER_ZIP),
        "notes.txt": ("Просто текст без разделителей\n".encode(), NOT_XLSX),
        "page.xlsx": (b"<!doctype html><table><tr><td>1;2</td></tr></table>", NOT_XLSX),
        "empty.xlsx": (b"", NOT_XLSX),
    }


FILES = files()


def test_the_committed_files_are_what_their_names_say():
    ods = zipfile.ZipFile(DATA / "region-43.ods")
    assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert (DATA / "region-43.xls").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert (DATA / "region-43.csv").read_text().startswith('"Код критерия";"Механизм"')
    assert (DATA / "region-43-password.xlsx").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    names = ("region-43.ods", "region-43.xls", "region-43.csv", "region-43-password.xlsx")
    assert all((DATA / name).stat().st_size < 30_000 for name in names)


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_import_names_the_format_it_was_given(name, campaign, world):
    data, message = FILES[name]
    user = world.users["coordinator"]

    with pytest.raises(excel_import.ImportRejected) as refused:
        excel_import.import_workbook(data, campaign=campaign, user=user, access=access_for(user))

    assert refused.value.errors == [gettext(message)]


def test_a_real_workbook_passes_whatever_it_is_called():
    data = (DATA / "libreoffice-region-43.xlsx").read_bytes()  # written by LibreOffice, with its own members

    assert excel_import._precheck(data) is None


@pytest.mark.parametrize(
    "name", ["region-43.ods", "ods-renamed.xlsx", "region-43.xls", "region-43.csv", "region-43-password.xlsx"]
)
def test_the_upload_page_and_the_command_refuse_it_and_write_nothing(name, campaign, world, as_role, tmp_path):
    data, message = FILES[name]
    client = as_role(world, "coordinator")
    url = reverse("region_import", args=[campaign.slug, "43"])
    before = (Answer.objects.count(), Score.objects.count(), EvidenceLink.objects.count())
    path = tmp_path / name
    path.write_bytes(data)
    err = io.StringIO()

    response = client.post(url, {"file": SimpleUploadedFile(name, data, "application/octet-stream")})
    with pytest.raises(CommandError):
        call_command("import_forms", campaign.slug, str(path), "--user", "t-coordinator", stderr=err)

    assert response.status_code == 400
    assert escape(gettext(message)) in response.content.decode()
    assert gettext(message) in err.getvalue()
    assert (Answer.objects.count(), Score.objects.count(), EvidenceLink.objects.count()) == before


def test_the_russian_messages_say_what_to_do():
    from django.utils import translation

    with translation.override("ru"):
        ods = gettext(ODS)
    if ods == ODS:
        pytest.skip("the Russian catalogue has not been compiled with these messages yet")
    assert ods == (
        "Файл в формате OpenDocument (.ods). Сохраните его в LibreOffice как «Книга Excel 2007–365 (.xlsx)» "
        "и загрузите снова."
    )


# --- accept= on every file input ----------------------------------------------------------------------------------


def _file_inputs(html):
    return re.findall(r"<input[^>]*type=\"file\"[^>]*>", html)


def _accept(tag):
    return re.search(r'accept="([^"]*)"', tag).group(1)


def test_the_workbook_upload_accepts_xlsx(campaign, world, as_role):
    page = as_role(world, "coordinator").get(reverse("region_import", args=[campaign.slug, "43"])).content.decode()

    (tag,) = _file_inputs(page)
    assert _accept(tag) == XLSX_ACCEPT


@pytest.mark.parametrize("view", ["campaign_materials", "campaign_basis"])
def test_materials_and_basis_documents_accept_what_the_attachment_rules_allow(view, campaign, world, as_role):
    page = as_role(world, "operator").get(reverse(view, args=[campaign.slug])).content.decode()

    (tag,) = _file_inputs(page)
    accepted = _accept(tag).split(",")
    assert sorted(accepted) == sorted(settings.UPLOAD_EXTENSIONS) and len(accepted) == len(set(accepted))
    assert accepted[:3] == [".pdf", ".docx", ".xlsx"]  # the order people expect, not alphabetical


def test_the_evidence_files_of_a_form_accept_what_the_attachment_rules_allow(campaign, world, as_role):
    url = reverse("submission_mechanism", args=[campaign.slug, world.municipality.code, "1.1"])

    tags = _file_inputs(as_role(world, "organizer").get(url).content.decode())

    assert tags and all(sorted(_accept(tag).split(",")) == sorted(settings.UPLOAD_EXTENSIONS) for tag in tags)


def test_the_admin_basis_document_inline_accepts_the_same(campaign, world, client):
    operator = world.users["operator"]
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)

    page = client.get(reverse("admin:assessment_campaign_change", args=[campaign.pk])).content.decode()

    tags = _file_inputs(page)  # the inline's empty form: its file input is the page's only one
    assert tags and all(sorted(_accept(tag).split(",")) == sorted(settings.UPLOAD_EXTENSIONS) for tag in tags)

"""The Excel round trip: export → edit → import, all or nothing, with every error named."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from assessment import excel_export, excel_import
from assessment.models import Answer, Campaign, EvidenceLink, Score, Submission
from municipalities.access import access_for
from municipalities.models import Municipality

DATA = Path(__file__).parent / "data"


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return Campaign.objects.get(slug="2026")


@pytest.fixture
def coordinator(demo):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="coordinator-43")


def export(campaign, region="43"):
    municipalities = list(Municipality.objects.filter(region__code=region).in_display_order())
    return excel_export.export_workbook(campaign=campaign, municipalities=municipalities)


def edit(data, sheet, changes):
    """changes: {(row, header): value}"""
    workbook = load_workbook(io.BytesIO(data))
    ws = workbook[sheet]
    columns = {cell.value: cell.column for cell in ws[1]}
    for (row, header), value in changes.items():
        ws.cell(row=row, column=columns[header]).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_import(data, campaign, user):
    return excel_import.import_workbook(data, campaign=campaign, user=user, access=access_for(user))


def test_export_has_a_sheet_per_municipality_with_the_right_columns(demo):
    workbook = load_workbook(io.BytesIO(export(demo)))

    assert len(workbook.sheetnames) == 12 and workbook.sheetnames[0] == "город Киров"
    ws = workbook["город Киров"]
    assert [c.value for c in ws[1]][:8] == [
        "Код критерия",
        "Механизм",
        "Компонент",
        "Критерий",
        "Макс. балл",
        "Описание",
        "Ссылки",
        "Балл координатора",
    ]
    assert ws.max_row == 82 and ws.freeze_panes == "A2"
    assert ws["A2"].protection.locked and not ws["F2"].protection.locked
    assert ws.data_validations.dataValidation[0].formula1 == "0"
    assert ws["F2"].value  # kirov's demo answers are filled in: a true round trip


def test_the_export_of_a_whole_region_reimports_unchanged(demo, coordinator):
    result = run_import(export(demo), demo, coordinator)

    assert result.changed == [] and len(result.unchanged) == 12


def test_an_edit_is_imported_and_a_second_identical_import_changes_nothing(demo, coordinator):
    data = edit(
        export(demo),
        "Орловский район",
        {
            (2, "Описание"): "Приказ № 5",
            (2, "Ссылки"): "https://orlov.ru/a.pdf\nhttps://orlov.ru/b.pdf",
            (2, "Балл координатора"): 4,
        },
    )

    first = run_import(data, demo, coordinator)
    second = run_import(data, demo, coordinator)

    answer = Answer.objects.get(
        submission__campaign=demo, submission__municipality__code="orlov", criterion__code="1.1.1"
    )
    assert first.changed == ["Орловский район"] and second.changed == []
    assert answer.description == "Приказ № 5"
    assert list(answer.links.values_list("url", flat=True)) == ["https://orlov.ru/a.pdf", "https://orlov.ru/b.pdf"]
    assert Score.objects.get(submission=answer.submission, criterion__code="1.1.1", is_current=True).points == 4


def test_a_renamed_sheet_still_imports_by_its_code(demo, coordinator):
    workbook = load_workbook(io.BytesIO(edit(export(demo), "Орловский район", {(3, "Описание"): "Новое"})))
    workbook["Орловский район"].title = "Орлов"
    out = io.BytesIO()
    workbook.save(out)

    result = run_import(out.getvalue(), demo, coordinator)

    assert result.changed == ["Орловский район"]


def test_a_workbook_written_by_libreoffice_imports_alike(demo, coordinator):
    data = (DATA / "libreoffice-region-43.xlsx").read_bytes()
    assert b"LibreOffice" in zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")

    result = run_import(data, demo, coordinator)

    assert result.changed == ["Орловский район"]
    answer = Answer.objects.get(
        submission__municipality__code="orlov", submission__campaign=demo, criterion__code="1.1.2"
    )
    assert answer.description.startswith("Описание из LibreOffice")
    assert answer.links.count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {(12, "Балл координатора"): 70},
            "Лист «Орловский район», строка 12, «Балл координатора»: 70 больше максимума",
        ),
        ({(2, "Балл координатора"): -1}, "отрицательн"),
        ({(2, "Балл координатора"): 2.5}, "не целое"),
        ({(2, "Балл координатора"): "пять"}, "не число"),
        ({(2, "Балл координатора"): "=A1*2"}, "формула"),
        ({(2, "Ссылки"): "javascript:alert(1)"}, "http"),
        ({(2, "Код критерия"): "9.9.9"}, "неизвестный критерий"),
        ({(3, "Код критерия"): "1.1.1"}, "дважды"),
        ({(2, "Описание"): "я" * 10001}, "длиннее"),
        ({(2, "Код муниципалитета"): "elista"}, "«Код муниципалитета»"),
    ],
)
def test_one_bad_cell_rejects_the_whole_file(demo, coordinator, changes, message):
    good = {(5, "Описание"): "Это изменение не должно записаться"}
    data = edit(export(demo), "Орловский район", {**good, **changes})
    before = Answer.objects.count(), EvidenceLink.objects.count(), Score.objects.count()

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(data, demo, coordinator)

    assert any(message in str(e) for e in rejected.value.errors), rejected.value.errors
    assert (Answer.objects.count(), EvidenceLink.objects.count(), Score.objects.count()) == before


def make_zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a workbook at all", "не книга Excel"),
        (make_zip({"readme.txt": "hello"}), "ZIP"),
        (
            make_zip({"[Content_Types].xml": "macroEnabled", "xl/workbook.xml": "<x/>", "xl/vbaProject.bin": "x"}),
            "макрос",
        ),
        (make_zip({"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<broken"}), "повреждена"),
        (
            make_zip(
                {"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>", "xl/big.xml": "0" * (210 * 1024 * 1024)}
            ),
            "объём",
        ),
    ],
)
def test_files_that_are_not_plain_workbooks_are_refused(demo, coordinator, data, message):
    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(data, demo, coordinator)

    assert message in rejected.value.errors[0]


def test_too_many_rows_are_refused(demo, coordinator):
    workbook = load_workbook(io.BytesIO(export(demo)))
    ws = workbook["Орловский район"]
    for row in range(83, 1200):
        ws.cell(row=row, column=4).value = "x"
    out = io.BytesIO()
    workbook.save(out)

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(out.getvalue(), demo, coordinator)

    assert any("500" in e for e in rejected.value.errors)


def test_a_missing_column_is_named(demo, coordinator):
    workbook = load_workbook(io.BytesIO(export(demo)))
    workbook["Орловский район"]["G1"].value = "Что-то другое"
    out = io.BytesIO()
    workbook.save(out)

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(out.getvalue(), demo, coordinator)

    assert any("«Ссылки»" in e for e in rejected.value.errors)


def test_another_regions_coordinator_cannot_import(demo):
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.get(username="coordinator-08")
    data = edit(export(demo), "Орловский район", {(2, "Описание"): "x"})

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(data, demo, other)

    assert "orlov" in " ".join(rejected.value.errors) or "kirov" in " ".join(rejected.value.errors)


def test_a_changed_sheet_of_a_submission_past_submitted_is_refused(demo, coordinator):
    Submission.objects.filter(campaign=demo, municipality__code="kumeny").update(status="prescored")
    data = edit(export(demo), "Куменский район", {(2, "Описание"): "Перезапись"})

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(data, demo, coordinator)
    unchanged = run_import(export(demo), demo, coordinator)  # the same sheet unchanged is skipped silently

    assert any("Куменский район" in e for e in rejected.value.errors)
    assert unchanged.changed == []


def test_the_upload_page_lists_errors_and_writes_nothing(demo, coordinator, client):
    client.force_login(coordinator)
    data = edit(export(demo), "Орловский район", {(12, "Балл координатора"): 70})
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("region_import", args=["2026", "43"]), {"file": SimpleUploadedFile("r.xlsx", data)})

    assert response.status_code == 400
    assert "70 больше максимума" in response.content.decode()


def test_commands_round_trip(demo, tmp_path, capsys):
    path = tmp_path / "r.xlsx"

    call_command("export_template", "2026", "--region", "43", "-o", str(path))
    call_command("import_forms", "2026", str(path), "--user", "coordinator-43")

    assert "без изменений: 12" in capsys.readouterr().out


def test_import_command_fails_cleanly_on_bad_input(demo, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"garbage")

    with pytest.raises(CommandError):
        call_command("import_forms", "2026", str(path), "--user", "coordinator-43")


def test_a_file_over_the_size_limit_is_refused(demo, coordinator, settings):
    settings.IMPORT_MAX_BYTES = 1000

    with pytest.raises(excel_import.ImportRejected) as rejected:
        run_import(export(demo), demo, coordinator)

    assert "МБ" in rejected.value.errors[0]


def test_imported_pre_scores_remember_the_evidence_as_a_scored_page_does(world, campaign):
    """Before, the import wrote pre-scores without the evidence snapshot the scoring page takes, so a page that
    changed after an imported score never showed «changed since scoring»."""
    from assessment.models import Criterion

    submission = campaign.submissions.get(municipality=world.municipality)
    criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.2")
    answer = Answer.objects.create(submission=submission, criterion=criterion, description="Приказ № 12")
    link = EvidenceLink.objects.create(answer=answer, url="https://uo.example.ru/prikaz-12.pdf", sha256="a" * 64)
    municipalities = [world.municipality]
    data = excel_export.export_workbook(campaign=campaign, municipalities=municipalities)
    sheet = load_workbook(io.BytesIO(data)).sheetnames[0]
    row = 2 + list(
        Criterion.objects.filter(mechanism__methodology=campaign.methodology)
        .order_by("mechanism__order", "component__order")
        .values_list("code", flat=True)
    ).index("1.1.2")

    run_import(edit(data, sheet, {(row, "Балл координатора"): 7}), campaign, world.users["coordinator"])

    score = Score.objects.get(submission=submission, criterion=criterion, round="prescore", is_current=True)
    link.refresh_from_db()
    assert score.points == 7
    assert link.sha256_at_scoring == "a" * 64

"""CSV for Russian spreadsheets (DESIGN §4): UTF-8 with a BOM, `;` between fields, numbers bare with a decimal
comma, every text quoted, so that a code such as "08" stays text. Every CSV the product writes goes through
municipalities/tabular.py; each download is read back here byte by byte, and one is opened in LibreOffice."""

import csv
import io
import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import load_workbook

from municipalities.tabular import CSV_TYPE, Column, csv_bytes, csv_cell, csv_response, csv_text

BOM = b"\xef\xbb\xbf"


def parse(content):
    """(header, rows) of CSV bytes as a spreadsheet reads them: the BOM first, `;` between fields."""
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content[len(BOM) :].decode("utf-8"), newline=""), delimiter=";"))
    return rows[0], rows[1:]


def raw_lines(content):
    return content[len(BOM) :].decode("utf-8").split("\r\n")


# --- the one writer ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (0, "0"),
        (-19, "-19"),
        (555, "555"),
        (0.245, "0,245"),
        (-0.0541, "-0,0541"),
        (1e-05, "0,00001"),
        (1234567.5, "1234567,5"),
        (Decimal("0.2450"), "0,2450"),
        (Decimal("1E+3"), "1000"),
        (True, "1"),
        ("08", '"08"'),
        ("1.1", '"1.1"'),
        ("город Элиста", '"город Элиста"'),
        ('Школа "Надежда"; филиал', '"Школа ""Надежда""; филиал"'),
        ("=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""),
        ("-5", '"\'-5"'),
        ("", '""'),
    ],
)
def test_a_cell_is_a_bare_number_with_a_decimal_comma_or_quoted_text(value, cell):
    assert csv_cell(value) == cell


def test_the_file_has_a_bom_semicolons_crlf_and_quoted_headers():
    columns = [Column("Код региона"), Column("Доля", number_format="0.0%"), Column("1.1")]

    content = csv_bytes(columns, [["08", 0.245, 5], ["43", None, 0]])

    assert content == BOM + '"Код региона";"Доля";"1.1"\r\n"08";0,245;5\r\n"43";;0\r\n'.encode()
    assert csv_text(columns, []).encode() == BOM + '"Код региона";"Доля";"1.1"\r\n'.encode()


def test_a_text_with_a_line_break_stays_one_field():
    header, rows = parse(csv_bytes([Column("Описание")], [["строка 1\r\nстрока 2"]]))

    assert header == ["Описание"] and rows == [["строка 1\r\nстрока 2"]]


def test_the_response_is_a_csv_download():
    response = csv_response([Column("Код")], [["08"]], "x.csv")

    assert response["Content-Type"] == CSV_TYPE == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content == BOM + '"Код"\r\n"08"\r\n'.encode()


# --- every CSV download -----------------------------------------------------------------------------------------


def _by_code(header, rows):
    return {row[header.index(gettext("Municipality code"))]: dict(zip(header, row, strict=True)) for row in rows}


def test_the_ranking_csv_has_decimal_commas_and_the_region_code_as_text(finalized, world, as_role):
    client = as_role(world, "ministry")

    response = client.get(reverse("ranking_export", args=[finalized.slug, "csv"]))

    assert response.status_code == 200 and response["Content-Type"] == CSV_TYPE
    header, rows = parse(response.content)
    by_code = _by_code(header, rows)
    elista = by_code["elista"]
    assert elista[gettext("Region code")] == "08"
    assert elista[gettext("Share")] == "0,245"  # 136 of 555: 0.2450
    assert by_code["kirov"][gettext("Share")] == "0,5063"
    assert elista[gettext("Total")] == "136" and elista[gettext("Maximum")] == "555"
    lines = raw_lines(response.content)
    line = next(line for line in lines if '"elista"' in line)
    assert ';"08";' in line and ";0,245;" in line and ";136;555;" in line
    assert '"1.1";"1.2"' in lines[0]  # mechanism codes in the header: text, never a date or a number
    assert not any("." in cell for row in rows for cell in row[5:8])


def test_the_regional_ranking_csv_keeps_the_code_08(finalized, world, as_role):
    client = as_role(world, "ministry")

    response = client.get(reverse("ranking_export", args=[finalized.slug, "csv"]) + "?region=08")

    header, rows = parse(response.content)
    assert [row[header.index(gettext("Region code"))] for row in rows] == ["08"]
    assert ';"08";' in raw_lines(response.content)[1]


def test_the_export_ranking_command_writes_the_same_csv(finalized, world, as_role, tmp_path):
    out = tmp_path / "ranking.csv"

    call_command("export_ranking", finalized.slug, "--format", "csv", "-o", str(out), stdout=io.StringIO())

    header, rows = parse(out.read_bytes())
    elista = _by_code(header, rows)["elista"]
    assert elista["Код региона"] == "08" and elista["Доля"] == "0,245"


def test_the_survey_links_csv_quotes_every_text(survey_campaign, world, client):
    client.force_login(world.users["coordinator"])

    for url in (
        reverse("survey_region_links", args=[survey_campaign.slug, "43", "csv"]),
        reverse("survey_municipality_links", args=[survey_campaign.slug, "kirov", "csv"]),
    ):
        response = client.get(url)

        assert response.status_code == 200 and response["Content-Type"] == CSV_TYPE
        header, rows = parse(response.content)
        assert header[:2] == ["Муниципалитет", "Школа"] and rows
        for line in filter(None, raw_lines(response.content)):
            assert line.startswith('"') and line.endswith('"')  # text only: every field quoted
        assert all("/s/" in row[4] for row in rows)


# --- in LibreOffice, as a Russian user opens it -------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# Separator ;, text delimiter ", UTF-8 (76), from line 1, no column formats, Russian (1049); the last token is the
# import dialog's «Format quoted field as text», which keeps a quoted code such as "08" text.
RUSSIAN_CSV = "CSV:59,34,76,1,,1049"


def _open_in_libreoffice(content, tmp_path, options):
    tmp_path.mkdir()
    source = tmp_path / "export.csv"
    source.write_bytes(content)
    profile = tmp_path / "profile"  # its own profile: another soffice on the machine does not block this one
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            f"--infilter={options}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    sheet = load_workbook(tmp_path / "export.xlsx").active
    header = [c.value for c in sheet[1]]
    return {row[1].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_in_russian_reads_the_share_as_a_number_and_08_as_text(finalized, world, as_role, tmp_path):
    content = as_role(world, "ministry").get(reverse("ranking_export", args=[finalized.slug, "csv"])).content

    quoted_as_text = _open_in_libreoffice(content, tmp_path / "a", RUSSIAN_CSV + ",true")
    defaults = _open_in_libreoffice(content, tmp_path / "b", RUSSIAN_CSV)

    for rows in (quoted_as_text, defaults):
        share = rows["elista"]["Доля"]
        assert share.data_type == "n" and share.value == pytest.approx(0.245)
        assert rows["elista"]["Итого"].value == 136 and rows["elista"]["Итого"].data_type == "n"
        assert rows["elista"]["1.1"].data_type == "n"
    code = quoted_as_text["elista"]["Код региона"]
    assert code.data_type == "s" and code.value == "08"

"""The Excel round trip, outward: one sheet per municipality, a row per criterion, with what the product holds.

The import (assessment/excel_import.py) reads the same columns by their headers, so a workbook saved by
LibreOffice, or with columns moved, imports alike; only the description, the links and the coordinator's points
are editable (the sheet is protected, the points validated against each row's maximum)."""

import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from assessment.models import Answer, Criterion, EvidenceLink, Score, Submission
from assessment.sites import on_authority_site
from municipalities.tabular import FORMULA_START, sheet_title

COLUMNS = [
    # key, header, width, editable
    ("code", "Код критерия", 12, False),
    ("mechanism", "Механизм", 28, False),
    ("component", "Компонент", 26, False),
    ("criterion", "Критерий", 60, False),
    ("max", "Макс. балл", 10, False),
    ("description", "Описание", 60, True),
    ("links", "Ссылки", 45, True),
    ("points", "Балл координатора", 14, True),
    # Read only: which of the links are off the authority's own site (assessment/sites.py); the import ignores it.
    ("off_site", "Ссылки вне сайта МОУО", 30, False),
    ("municipality", "Код муниципалитета", 18, False),
]
HEADERS = {key: header for key, header, _w, _e in COLUMNS}


def column_index(key):
    return [k for k, _h, _w, _e in COLUMNS].index(key)


def column_letter(key):
    return get_column_letter(column_index(key) + 1)


@dataclass
class FormValues:
    """What the product holds for the forms, keyed by (submission id, criterion id)."""

    descriptions: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    points: dict = field(default_factory=dict)


def form_values(submissions):
    """The descriptions, links and current pre-scores of these submissions, in three queries."""
    values = FormValues()
    for submission_id, criterion_id, description in Answer.objects.filter(submission__in=submissions).values_list(
        "submission_id", "criterion_id", "description"
    ):
        values.descriptions[(submission_id, criterion_id)] = description
    for submission_id, criterion_id, url in (
        EvidenceLink.objects.filter(answer__submission__in=submissions)
        .order_by("position", "pk")
        .values_list("answer__submission_id", "answer__criterion_id", "url")
    ):
        values.links.setdefault((submission_id, criterion_id), []).append(url)
    for submission_id, criterion_id, points in Score.objects.filter(
        submission__in=submissions, round=Score.Round.PRESCORE, is_current=True
    ).values_list("submission_id", "criterion_id", "points"):
        values.points[(submission_id, criterion_id)] = points
    return values


def _add_styles(workbook):
    """Named styles: one style record shared by every cell of its kind (per-cell styling is slow in openpyxl)."""
    header = NamedStyle(
        "muko_header", font=Font(bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor="1D4F91")
    )
    header.alignment = Alignment(wrap_text=True, vertical="center")
    locked = NamedStyle("muko_locked", fill=PatternFill("solid", fgColor="F1F3F7"))
    locked.alignment, locked.protection = Alignment(wrap_text=True, vertical="top"), Protection(locked=True)
    editable = NamedStyle(
        "muko_editable", alignment=Alignment(wrap_text=True, vertical="top"), protection=Protection(locked=False)
    )
    for style in (header, locked, editable):
        workbook.add_named_style(style)


def _row(criterion, municipality, submission, values):
    key = (submission.pk if submission else None, criterion.pk)
    links = values.links.get(key, [])
    return [
        criterion.code,
        f"{criterion.mechanism.code}. {criterion.mechanism.short_title}",
        criterion.component.title,
        criterion.guidance,
        criterion.max_points,
        values.descriptions.get(key, ""),
        "\n".join(links),
        values.points.get(key),
        "\n".join(url for url in links if not on_authority_site(url, municipality.website)),
        municipality.code,
    ]


def _style_rows(sheet, last):
    kinds = ["muko_editable" if editable else "muko_locked" for _k, _h, _w, editable in COLUMNS]
    for row in sheet.iter_rows(min_row=2, max_row=last):
        for cell, kind in zip(row, kinds, strict=True):
            cell.style = kind
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                # Text that a spreadsheet would run as a formula: kept as text, marked so even after an edit.
                cell.data_type = "s"
                cell.quotePrefix = True


def _validate_points(sheet, last):
    """Each row's points checked against its own «Макс. балл» (the maximum is relative to the first row)."""
    points = column_letter("points")
    validation = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2=f"{column_letter('max')}2",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Балл координатора",
        error="Целое число от 0 до максимального балла критерия",
    )
    sheet.add_data_validation(validation)
    validation.add(f"{points}2:{points}{last}")


def _protect(sheet, last):
    """Only the editable columns can be typed in; widths, rows and the filter stay free to use."""
    sheet.freeze_panes = "A2"
    sheet.column_dimensions[column_letter("municipality")].hidden = True
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    sheet.protection.autoFilter = False
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"


def _municipality_sheet(workbook, title, rows):
    sheet = workbook.create_sheet(title)
    sheet.append([header for _k, header, _w, _e in COLUMNS])
    for col, (_key, _header, width, _editable) in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=col).style = "muko_header"
        sheet.column_dimensions[get_column_letter(col)].width = width
    for row in rows:
        sheet.append(row)
    last = len(rows) + 1
    _style_rows(sheet, last)
    _validate_points(sheet, last)
    _protect(sheet, last)


def export_workbook(*, campaign, municipalities):
    """The region's forms with what the product already holds, ready to edit and import back."""
    criteria = list(
        Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )
    submissions = {
        s.municipality_id: s for s in Submission.objects.filter(campaign=campaign, municipality__in=municipalities)
    }
    values = form_values(list(submissions.values()))
    workbook = Workbook()
    workbook.remove(workbook.active)
    _add_styles(workbook)
    used = set()
    for municipality in municipalities:
        submission = submissions.get(municipality.pk)
        rows = [_row(criterion, municipality, submission, values) for criterion in criteria]
        _municipality_sheet(workbook, sheet_title(municipality.name, used), rows)
    workbook.properties.title = f"{campaign.title}"
    workbook.properties.subject = f"muko:{campaign.slug}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

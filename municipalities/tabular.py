"""Tables as files: XLSX (real numbers, a header row that stays in view) and CSV, both safe to open in a
spreadsheet. A text cell that starts with = + - @ (or a tab or carriage return) would run as a formula
there; such text is written with a leading apostrophe, the spreadsheet convention for "this is text".

Every CSV the product writes comes from here (`csv_bytes`, `csv_response`), for a spreadsheet in Russian
(DESIGN §4): UTF-8 with a BOM, `;` between fields, numbers bare with a decimal comma («Доля» 0,245 is a
number there), every text quoted, so that a code such as "08" stays text where quoted fields are read as text
(in LibreOffice, «Format quoted field as text» of the import dialog)."""

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """A cell value that a spreadsheet shows as it is and never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class Column:
    header: str
    width: int = 16
    number_format: str = ""  # e.g. "0.0%" for shares, "0" for counts


@dataclass
class Sheet:
    title: str
    columns: list
    rows: list = field(default_factory=list)


def sheet_title(title, used):
    """A valid, unique sheet title (31 characters, none of []:*?/\\), case-insensitively unique in `used`."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Лист"
    base, n = clean, 2
    while clean.lower() in used:
        suffix = f" ({n})"
        clean = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(clean.lower())
    return clean


def xlsx_bytes(sheets):
    """A workbook with a sheet per table: bold wrapped header, frozen below it, column widths, number
    formats; numbers stay numbers."""
    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8EEF7")
    for sheet in sheets:
        ws = wb.create_sheet(sheet_title(sheet.title, used))
        ws.append([c.header for c in sheet.columns])
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            ws.append([safe_text(v) for v in row])
        for i, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = column.width
            if column.number_format:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = column.number_format
        ws.freeze_panes = "A2"
        if sheet.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{len(sheet.rows) + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_cell(value):
    """One CSV field: empty for None; a number bare, with a decimal comma and never an exponent; anything else
    text, formula-safe and always quoted (a quote inside doubled)."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value  # repr: the shortest exact digits
        return format(number, "f").replace(".", ",")
    text = safe_text(str(value))  # str(): lazy translations too
    return '"' + text.replace('"', '""') + '"'


def csv_text(columns, rows):
    """CSV for a spreadsheet in Russia: a BOM (so Cyrillic opens right), `;` as the separator, CRLF."""
    lines = [[str(c.header) for c in columns], *rows]
    return "\ufeff" + "".join(";".join(csv_cell(v) for v in line) + "\r\n" for line in lines)


def csv_bytes(columns, rows):
    return csv_text(columns, rows).encode("utf-8")


def download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)  # never MIME-encoded
    return response


def xlsx_response(sheets, filename):
    return download(xlsx_bytes(sheets), filename, XLSX_TYPE)


def csv_response(columns, rows, filename):
    return download(csv_bytes(columns, rows), filename, CSV_TYPE)

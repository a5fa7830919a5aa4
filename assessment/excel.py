"""The Excel round trip: one sheet per municipality, 81 rows, exported and imported by the same columns.

Import is all or nothing: the whole file is read and checked first, every error is collected with sheet,
row and column, and only a clean file is written, in one transaction with bulk writes. Columns are found
by their header, so a workbook saved by LibreOffice, or with columns moved, imports alike."""

import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from assessment.collection import MAX_TEXT, CollectionError, parse_links
from assessment.models import Answer, Criterion, EvidenceLink, Score, Submission
from assessment.tasks import schedule_link_checks
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
    ("municipality", "Код муниципалитета", 18, False),
]
HEADERS = {key: header for key, header, _w, _e in COLUMNS}
REQUIRED = ["code", "description", "links", "points", "municipality"]
MAX_ROWS = 500
MAX_SHEETS = 200
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 150
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
DTD = (b"<!DOCTYPE", b"<!ENTITY")
OVERWRITABLE = {Submission.Status.DRAFT, Submission.Status.RETURNED, Submission.Status.SUBMITTED}
EXCEL_LIMIT = 32767


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
    answers, links, points = {}, {}, {}
    for a in Answer.objects.filter(submission__in=submissions.values()).values_list(
        "pk", "submission_id", "criterion_id", "description"
    ):
        answers[(a[1], a[2])] = a[3]
    for submission_id, criterion_id, url in (
        EvidenceLink.objects.filter(answer__submission__in=submissions.values())
        .order_by("position", "pk")
        .values_list("answer__submission_id", "answer__criterion_id", "url")
    ):
        links.setdefault((submission_id, criterion_id), []).append(url)
    for submission_id, criterion_id, value in Score.objects.filter(
        submission__in=submissions.values(), round=Score.Round.PRESCORE, is_current=True
    ).values_list("submission_id", "criterion_id", "points"):
        points[(submission_id, criterion_id)] = value

    workbook = Workbook()
    workbook.remove(workbook.active)
    # Named styles: one style record shared by every cell of its kind (per-cell styling is slow in openpyxl).
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
    kinds = ["muko_editable" if e else "muko_locked" for _k, _h, _w, e in COLUMNS]
    used = set()
    for municipality in municipalities:
        submission = submissions.get(municipality.pk)
        sheet = workbook.create_sheet(sheet_title(municipality.name, used))
        sheet.append([h for _k, h, _w, _e in COLUMNS])
        for col, (_key, _header, width, _editable) in enumerate(COLUMNS, start=1):
            sheet.cell(row=1, column=col).style = "muko_header"
            sheet.column_dimensions[get_column_letter(col)].width = width
        for criterion in criteria:
            key = (submission.pk if submission else None, criterion.pk)
            sheet.append(
                [
                    criterion.code,
                    f"{criterion.mechanism.code}. {criterion.mechanism.short_title}",
                    criterion.component.title,
                    criterion.guidance,
                    criterion.max_points,
                    answers.get(key, ""),
                    "\n".join(links.get(key, [])),
                    points.get(key),
                    municipality.code,
                ]
            )
        last = len(criteria) + 1
        for row in sheet.iter_rows(min_row=2, max_row=last):
            for cell, kind in zip(row, kinds, strict=True):
                cell.style = kind
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    # Text that a spreadsheet would run as a formula: kept as text, marked so even after an edit.
                    cell.data_type = "s"
                    cell.quotePrefix = True
        points_col = get_column_letter(_index("points") + 1)
        max_col = get_column_letter(_index("max") + 1)
        # The maximum is relative to the first row, so each row is checked against its own «Макс. балл».
        validation = DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2=f"{max_col}2",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Балл координатора",
            error="Целое число от 0 до максимального балла критерия",
        )
        sheet.add_data_validation(validation)
        validation.add(f"{points_col}2:{points_col}{last}")
        sheet.freeze_panes = "A2"
        sheet.column_dimensions[get_column_letter(_index("municipality") + 1)].hidden = True
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False
        sheet.protection.formatRows = False
        sheet.protection.autoFilter = False
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    workbook.properties.title = f"{campaign.title}"
    workbook.properties.subject = f"muko:{campaign.slug}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _index(key):
    return [k for k, _h, _w, _e in COLUMNS].index(key)


# --- import ----------------------------------------------------------------------------------------------


@dataclass
class SheetData:
    title: str
    municipality: object = None
    rows: dict = field(default_factory=dict)  # criterion code -> {"description", "links", "points", "row"}


@dataclass
class ImportResult:
    errors: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # municipality names written
    unchanged: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


class ImportRejected(CollectionError):
    def __init__(self, errors):
        super().__init__(_("The file was not imported: %(n)s errors.") % {"n": len(errors)})
        self.errors = errors


def _precheck(data):
    """Refuse what is not a plain XLSX before openpyxl parses a single byte of XML."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        return _("The file is larger than %(mb)s MB.") % {"mb": settings.IMPORT_MAX_BYTES // 2**20}
    if data.startswith(b"PK\x03\x04") and not zipfile.is_zipfile(io.BytesIO(data)):
        return _("The workbook is damaged and cannot be read.")  # a ZIP cut short: an interrupted download
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return _(
            "This is not an Excel workbook (.xlsx). Save the file as «Excel Workbook (.xlsx)» and upload it again."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return _("The workbook is damaged and cannot be read.")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return _("This is not an Excel workbook (.xlsx), only a ZIP archive with another content.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return _("The workbook contains macros. Save it as a plain «Excel Workbook (.xlsx)» without macros.")
    try:
        content_types = archive.read("[Content_Types].xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return _("The workbook is damaged and cannot be read.")
    if b"macroEnabled" in content_types:
        return _("The workbook contains macros. Save it as a plain «Excel Workbook (.xlsx)» without macros.")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if total > MAX_UNCOMPRESSED or total / packed > MAX_RATIO and total > 10 * 1024 * 1024:
        return _("The workbook unpacks to an unreasonable size and was refused.")
    return _scan_parts(archive)


def _scan_parts(archive):
    """Read every part once, in chunks, before any XML parser sees it: refuse a DTD (Excel never writes one;
    it is how entity expansion and external entities get in) and a sheet with more rows than a form may have
    (openpyxl reads a whole sheet to learn its size when the sheet does not declare it)."""
    for info in archive.infolist():
        sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        rows, tail = 0, b""
        try:
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    window = tail + chunk
                    if any(marker in window for marker in DTD):
                        return _("The workbook is damaged and cannot be read.")
                    if sheet:
                        rows += sum(1 for m in ROW_TAG.finditer(window) if m.end() > len(tail))
                        if rows > MAX_ROWS:
                            return _("A sheet of the workbook has more than %(max)s rows.") % {"max": MAX_ROWS}
                    tail = window[-64:]
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
            # A bad CRC (the directory lied about a size), an unknown compression, an encrypted part.
            return _("The workbook is damaged and cannot be read.")
    return None


class _Unreadable(Exception):
    pass


def _rows(sheet):
    """A sheet's rows as openpyxl reads them, lazily: a part that breaks halfway is a damaged file, not a 500."""
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # ParseError, BadZipFile, zlib.error…: openpyxl raises many kinds
        raise _Unreadable from exc


def _cell_error(sheet, row, column, message):
    return _("Sheet «%(sheet)s», row %(row)s, «%(column)s»: %(message)s") % {
        "sheet": sheet,
        "row": row,
        "column": HEADERS[column],
        "message": message,
    }


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_workbook(data, *, campaign, allowed_municipalities):
    """Parse and check the whole file; returns ([SheetData], [errors])."""
    try:
        return _read_workbook(data, campaign=campaign, allowed_municipalities=allowed_municipalities)
    except _Unreadable:
        return [], [_("The workbook is damaged and cannot be read.")]


def _read_workbook(data, *, campaign, allowed_municipalities):
    problem = _precheck(data)
    if problem:
        return [], [problem]
    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        # A second pass to tell a formula without a cached value from an empty cell, only when the file
        # has formulas at all (an exported workbook has none).
        archive = zipfile.ZipFile(io.BytesIO(data))
        sheets_xml = (
            archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )
        has_formulas = any(b"<f>" in xml or b"<f " in xml for xml in sheets_xml)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False) if has_formulas else None
    except Exception:  # openpyxl raises many kinds on broken XML
        return [], [_("The workbook is damaged and cannot be read.")]
    errors, sheets = [], []
    criteria = {
        c.code: c
        for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id).select_related("mechanism")
    }
    by_code = {m.code: m for m in allowed_municipalities}
    seen_municipalities = {}
    if len(values.sheetnames) > MAX_SHEETS:
        return [], [
            _("The workbook has %(n)s sheets; at most %(max)s are accepted.")
            % {"n": len(values.sheetnames), "max": MAX_SHEETS}
        ]
    for title in values.sheetnames:
        sheet = values[title]
        rows = _rows(sheet)
        formula_rows = _rows(formulas[title]) if formulas else itertools.repeat(())
        header = next(rows, None)
        next(formula_rows, None)
        if not header or not any(header):
            errors.append(_("Sheet «%(sheet)s» is empty: it has no header row.") % {"sheet": title})
            continue
        positions = {}
        names = {header_text: key for key, header_text, _w, _e in COLUMNS}
        for index, value in enumerate(header):
            key = names.get(_text(value))
            if key:
                positions[key] = index
        absent = [HEADERS[key] for key in REQUIRED if key not in positions]
        if absent:
            errors.append(
                _("Sheet «%(sheet)s»: columns missing: %(columns)s.")
                % {"sheet": title, "columns": ", ".join(f"«{a}»" for a in absent)}
            )
            continue
        data_sheet = SheetData(title)
        sheet_codes = set()
        for number, (row, formula_row) in enumerate(zip(rows, formula_rows, strict=False), start=2):
            if number > MAX_ROWS:
                errors.append(_("Sheet «%(sheet)s» has more than %(max)s rows.") % {"sheet": title, "max": MAX_ROWS})
                break

            def get(key, row=row, positions=positions):
                index = positions.get(key)
                return row[index] if index is not None and index < len(row) else None

            code = _text(get("code"))
            if not code and not any(v not in (None, "") for v in row):
                continue
            if code not in criteria:
                errors.append(
                    _cell_error(title, number, "code", _("unknown criterion «%(code)s»") % {"code": code[:20]})
                )
                continue
            if code in data_sheet.rows:
                errors.append(
                    _cell_error(title, number, "code", _("criterion %(code)s appears twice") % {"code": code})
                )
                continue
            sheet_codes.add(_text(get("municipality")))
            criterion = criteria[code]
            description = _text(get("description"))
            if len(description) > MAX_TEXT:
                errors.append(
                    _cell_error(title, number, "description", _("longer than %(max)s characters") % {"max": MAX_TEXT})
                )
            try:
                links = parse_links(_text(get("links")))
            except CollectionError as exc:
                errors.append(_cell_error(title, number, "links", exc.message))
                links = []
            points = get("points")
            formula = formula_row[positions["points"]] if positions["points"] < len(formula_row) else None
            if points is None and isinstance(formula, str) and formula.startswith("="):
                errors.append(
                    _cell_error(
                        title, number, "points", _("a formula without a computed value; enter the number itself")
                    )
                )
                points = None
            elif points not in (None, ""):
                points = _points(
                    points, criterion, lambda m, t=title, n=number: errors.append(_cell_error(t, n, "points", m))
                )
            else:
                points = None
            data_sheet.rows[code] = {"description": description, "links": links, "points": points, "row": number}
        sheet_codes.discard("")
        if not data_sheet.rows:
            errors.append(_("Sheet «%(sheet)s» has no criteria.") % {"sheet": title})
            continue
        if len(sheet_codes) != 1:
            errors.append(
                _("Sheet «%(sheet)s»: the column «%(column)s» must hold one municipality code.")
                % {"sheet": title, "column": HEADERS["municipality"]}
            )
            continue
        municipality_code = sheet_codes.pop()
        municipality = by_code.get(municipality_code)
        if municipality is None:
            errors.append(
                _("Sheet «%(sheet)s»: the municipality «%(code)s» is not one you may import for in this campaign.")
                % {"sheet": title, "code": municipality_code[:64]}
            )
            continue
        if municipality_code in seen_municipalities:
            errors.append(
                _("Sheets «%(a)s» and «%(b)s» are both for %(name)s.")
                % {"a": seen_municipalities[municipality_code], "b": title, "name": municipality.name}
            )
            continue
        seen_municipalities[municipality_code] = title
        absent_codes = sorted(set(criteria) - set(data_sheet.rows), key=lambda c: [int(p) for p in c.split(".")])
        if absent_codes:
            errors.append(
                _("Sheet «%(sheet)s»: criteria missing: %(codes)s.")
                % {"sheet": title, "codes": ", ".join(absent_codes[:10]) + ("…" if len(absent_codes) > 10 else "")}
            )
            continue
        data_sheet.municipality = municipality
        sheets.append(data_sheet)
    if not sheets and not errors:
        errors.append(_("The workbook has no municipality sheets."))
    return sheets, errors


def _points(value, criterion, error):
    if isinstance(value, bool):
        error(_("not a number"))
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            error(_("«%(v)s» is not a number") % {"v": value[:20]})
            return None
    if not isinstance(value, int | float):
        error(_("not a number"))
        return None
    if value != int(value):
        error(_("%(v)s is not a whole number") % {"v": value})
        return None
    value = int(value)
    if value < 0:
        error(_("%(v)s is negative") % {"v": value})
        return None
    if value > criterion.max_points:
        error(_("%(v)s is above the maximum %(max)s") % {"v": value, "max": criterion.max_points})
        return None
    return value


def import_workbook(data, *, campaign, user, access):
    """Check the whole file, then write it in one transaction; raise ImportRejected with every error."""
    from assessment.scope import submissions_for

    allowed = [
        s.municipality
        for s in submissions_for(access).filter(campaign=campaign).select_related("municipality")
        if access.can_manage_region(s.municipality.region_id)
    ]
    sheets, errors = read_workbook(data, campaign=campaign, allowed_municipalities=allowed)
    if errors:
        raise ImportRejected(errors)
    result = ImportResult()
    with transaction.atomic():
        submissions = {
            s.municipality_id: s
            for s in Submission.objects.select_for_update().filter(
                campaign=campaign, municipality__in=[sheet.municipality for sheet in sheets]
            )
        }
        current = _current_values(submissions.values())
        criteria = {
            c.code: c
            for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id).select_related(
                "mechanism"
            )
        }
        plans = []
        for sheet in sheets:
            submission = submissions[sheet.municipality.pk]
            held = current.get(submission.pk, {})
            changed = {
                code: row
                for code, row in sheet.rows.items()
                if held.get(code, ("", [], None)) != (row["description"], row["links"], row["points"])
            }
            if not changed:
                result.unchanged.append(sheet.municipality.name)
                continue
            if submission.status not in OVERWRITABLE:
                errors.append(
                    _("Sheet «%(sheet)s»: the submission of %(name)s is %(status)s and can no longer be overwritten.")
                    % {"sheet": sheet.title, "name": sheet.municipality.name, "status": submission.get_status_display()}
                )
                continue
            if submission.status == Submission.Status.SUBMITTED:
                content = [
                    c
                    for c, row in changed.items()
                    if held.get(c, ("", [], None))[:2] != (row["description"], row["links"])
                ]
                if content:
                    errors.append(
                        _(
                            "Sheet «%(sheet)s»: %(name)s has submitted its forms; only the coordinator's points may change (criteria %(codes)s)."
                        )
                        % {"sheet": sheet.title, "name": sheet.municipality.name, "codes": ", ".join(content[:5])}
                    )
                    continue
            plans.append((submission, sheet, changed))
        if errors:
            raise ImportRejected(errors)
        _write(plans, criteria, current, user)
        result.changed = [sheet.municipality.name for _submission, sheet, _changed in plans]
    return result


def _current_values(submissions):
    values = {}
    ids = [s.pk for s in submissions]
    for sid, code, description in Answer.objects.filter(submission_id__in=ids).values_list(
        "submission_id", "criterion__code", "description"
    ):
        values.setdefault(sid, {})[code] = [description, [], None]
    for sid, code, url in (
        EvidenceLink.objects.filter(answer__submission_id__in=ids)
        .order_by("position", "pk")
        .values_list("answer__submission_id", "answer__criterion__code", "url")
    ):
        values.setdefault(sid, {}).setdefault(code, ["", [], None])[1].append(url)
    for sid, code, points in Score.objects.filter(
        submission_id__in=ids, round=Score.Round.PRESCORE, is_current=True
    ).values_list("submission_id", "criterion__code", "points"):
        values.setdefault(sid, {}).setdefault(code, ["", [], None])[2] = points
    return {sid: {code: tuple(v) for code, v in codes.items()} for sid, codes in values.items()}


def _write(plans, criteria, current, user):
    """Write every changed sheet with one bulk statement per kind of row, whatever the number of sheets."""
    now = timezone.now()
    submission_ids = [submission.pk for submission, _sheet, _changed in plans]
    answers = {
        (a.submission_id, a.criterion.code): a
        for a in Answer.objects.filter(submission_id__in=submission_ids).select_related("criterion")
    }
    new_answers = [
        Answer(
            submission_id=submission.pk,
            criterion_id=criteria[code].pk,
            description=row["description"],
            updated_at=now,
            updated_by_id=user.pk,
            version=1,
        )
        for submission, _sheet, changed in plans
        for code, row in changed.items()
        if (submission.pk, code) not in answers
    ]
    codes = {c.pk: code for code, c in criteria.items()}
    for answer in Answer.objects.bulk_create(new_answers, batch_size=2000):
        answers[(answer.submission_id, codes[answer.criterion_id])] = answer
    created = {a.pk for a in new_answers}
    to_update, link_changed, score_changed = [], [], []
    for submission, _sheet, changed in plans:
        held = current.get(submission.pk, {})
        for code, row in changed.items():
            answer = answers[(submission.pk, code)]
            before = held.get(code, ("", [], None))
            if answer.pk not in created and answer.description != row["description"]:
                answer.description = row["description"]
                answer.updated_at, answer.updated_by = now, user
                answer.version += 1
                to_update.append(answer)
            if before[1] != row["links"]:
                link_changed.append((answer, row["links"]))
            if before[2] != row["points"]:
                score_changed.append((submission, code, row["points"]))
    Answer.objects.bulk_update(to_update, ["description", "updated_at", "updated_by", "version"], batch_size=500)
    EvidenceLink.objects.filter(answer__in=[a for a, _links in link_changed if a.pk not in created]).delete()
    new_links = EvidenceLink.objects.bulk_create(
        (
            EvidenceLink(answer_id=answer.pk, url=url, position=position)
            for answer, links in link_changed
            for position, url in enumerate(links)
        ),
        batch_size=2000,
    )
    schedule_link_checks([link.pk for link in new_links if link.pk], "saved")
    if score_changed:
        previous = {
            (s.submission_id, s.criterion.code): s
            for s in Score.objects.filter(
                submission_id__in=submission_ids, round=Score.Round.PRESCORE, is_current=True
            ).select_related("criterion")
        }
        replaced = [previous[(sub.pk, code)].pk for sub, code, _p in score_changed if (sub.pk, code) in previous]
        Score.objects.filter(pk__in=replaced).update(is_current=False)
        comment = _("imported from Excel")
        Score.objects.bulk_create(
            (
                Score(
                    submission_id=submission.pk,
                    criterion_id=criteria[code].pk,
                    round=Score.Round.PRESCORE,
                    points=points,
                    comment=comment,
                    by_id=user.pk,
                    at=now,
                    previous=previous.get((submission.pk, code)),
                )
                for submission, code, points in score_changed
                if points is not None
            ),
            batch_size=2000,
        )
    Submission.objects.filter(pk__in=submission_ids).update(last_activity_at=now)

"""The Excel round trip, inward: the region's workbook (assessment/excel_export.py) read back, all or nothing.

The whole file is checked before anything is written: first as a ZIP, part by part, before any XML parser sees
it (`_precheck`); then sheet by sheet and row by row (`WorkbookReader`), every error collected with its sheet,
row and column; then against what the product holds (`_plans`: a submitted form takes only new points). Only
a clean file is written, in one transaction with bulk writes (`_write`)."""

import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from assessment.collection import MAX_TEXT, CollectionError, parse_links
from assessment.excel_export import COLUMNS, HEADERS
from assessment.models import Answer, Criterion, EvidenceLink, Score, Submission
from assessment.scope import submissions_for
from assessment.score_sheet import prescores_import
from assessment.tasks import schedule_link_checks

REQUIRED = ["code", "description", "links", "points", "municipality"]
MAX_ROWS = 500
MAX_SHEETS = 200
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 150
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
DTD = (b"<!DOCTYPE", b"<!ENTITY")
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")  # the compound file of .xls (Excel 97–2003), and of a password's .xlsx
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted .xlsx is held in
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
OVERWRITABLE = {Submission.Status.DRAFT, Submission.Status.RETURNED, Submission.Status.SUBMITTED}


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


class _Unreadable(Exception):
    pass


def _damaged():
    return _("The workbook is damaged and cannot be read.")


# --- the file, before any XML is parsed ----------------------------------------------------------------------


def _not_a_zip(data):
    """What a file that is no ZIP at all is instead, by its first bytes: an old binary workbook (or an .xlsx
    saved with a password, which is an OLE2 file too), a CSV text, or something else."""
    if data.startswith(OLE2):
        if ENCRYPTED_PACKAGE in data:  # the stream's name in the directory, wherever that lies
            return _(
                "The workbook is protected with a password. Remove the password, save the workbook and upload it again."
            )
        return _(
            "This is a workbook in the old Excel 97–2003 format (.xls). Open it in Excel or LibreOffice, save it as "
            "«Excel Workbook (.xlsx)» and upload it again."
        )
    if _looks_like_csv(data):
        return _(
            "This is a CSV text file, not an Excel workbook. Open it in Excel or LibreOffice, save it as "
            "«Excel Workbook (.xlsx)» and upload it again."
        )
    return _("This is not an Excel workbook (.xlsx). Save the file as «Excel Workbook (.xlsx)» and upload it again.")


def _looks_like_csv(data):
    """Text (no control bytes but tab and line ends, in any 8-bit encoding) whose first line holds a `;`, `,` or
    tab between fields, and is no markup."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf")
    first = head.split(b"\n", 1)[0]
    return bool(
        first.strip()
        and not CONTROL.search(head)
        and not first.lstrip().startswith((b"<", b"{", b"%PDF"))
        and any(sep in first for sep in (b";", b",", b"\t"))
    )


def _zip_problem(data):
    """What keeps `data` from being a readable XLSX archive, or None (and the archive)."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        return _("The file is larger than %(mb)s MB.") % {"mb": settings.IMPORT_MAX_BYTES // 2**20}, None
    if data.startswith(b"PK\x03\x04") and not zipfile.is_zipfile(io.BytesIO(data)):
        return _damaged(), None  # a ZIP cut short: an interrupted download
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return _not_a_zip(data), None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return _damaged(), None
    return None, archive


def _content_problem(archive):
    """Not a workbook inside, macros, or a size that only a ZIP bomb has."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if _opendocument_type(archive, names).startswith(ODS_TYPE):  # a template (.ots) too
        return _(
            "This is an OpenDocument spreadsheet (.ods). Save it in LibreOffice as «Excel 2007–365 (.xlsx)» "
            "and upload it again."
        )
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return _("This is not an Excel workbook (.xlsx), only a ZIP archive with another content.")
    macros = _("The workbook contains macros. Save it as a plain «Excel Workbook (.xlsx)» without macros.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return macros
    try:
        content_types = archive.read("[Content_Types].xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return _damaged()
    if b"macroEnabled" in content_types:
        return macros
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if total > MAX_UNCOMPRESSED or total / packed > MAX_RATIO and total > 10 * 1024 * 1024:
        return _("The workbook unpacks to an unreasonable size and was refused.")
    return None


def _opendocument_type(archive, names):
    """The media type an OpenDocument file names in its `mimetype` member (its first, stored, a line of ASCII), or
    "": the format told by the content, whatever the file is called."""
    if "mimetype" not in names or archive.getinfo("mimetype").file_size > 200:
        return ""
    try:
        return archive.read("mimetype").decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
        return ""


def _precheck(data):
    """Refuse what is not a plain XLSX before openpyxl parses a single byte of XML."""
    problem, archive = _zip_problem(data)
    return problem or _content_problem(archive) or _scan_parts(archive)


def _part_problem(part, is_sheet):
    rows, tail = 0, b""
    while chunk := part.read(1 << 20):
        window = tail + chunk
        if any(marker in window for marker in DTD):
            return _damaged()
        if is_sheet:
            rows += sum(1 for m in ROW_TAG.finditer(window) if m.end() > len(tail))
            if rows > MAX_ROWS:
                return _("A sheet of the workbook has more than %(max)s rows.") % {"max": MAX_ROWS}
        tail = window[-64:]
    return None


def _scan_parts(archive):
    """Read every part once, in chunks, before any XML parser sees it: refuse a DTD (Excel never writes one;
    it is how entity expansion and external entities get in) and a sheet with more rows than a form may have
    (openpyxl reads a whole sheet to learn its size when the sheet does not declare it)."""
    for info in archive.infolist():
        is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        try:
            with archive.open(info) as part:
                problem = _part_problem(part, is_sheet)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
            # A bad CRC (the directory lied about a size), an unknown compression, an encrypted part.
            return _damaged()
        if problem:
            return problem
    return None


def _open(data):
    """(values, formulas): the workbook with cached values, and with formulas only when the file has any (an
    exported workbook has none), to tell a formula without a computed value from an empty cell."""
    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        archive = zipfile.ZipFile(io.BytesIO(data))
        sheets_xml = (
            archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )
        has_formulas = any(b"<f>" in xml or b"<f " in xml for xml in sheets_xml)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False) if has_formulas else None
    except Exception as exc:  # openpyxl raises many kinds on broken XML
        raise _Unreadable from exc
    return values, formulas


def _rows(sheet):
    """A sheet's rows as openpyxl reads them, lazily: a part that breaks halfway is a damaged file, not a 500."""
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # ParseError, BadZipFile, zlib.error…: openpyxl raises many kinds
        raise _Unreadable from exc


# --- sheets and rows ---------------------------------------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value):
    """(whole number or None, what is wrong with it or None) of a points cell."""
    if isinstance(value, bool):
        return None, _("not a number")
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            return None, _("«%(v)s» is not a number") % {"v": value[:20]}
    if not isinstance(value, int | float):
        return None, _("not a number")
    if value != int(value):
        return None, _("%(v)s is not a whole number") % {"v": value}
    return int(value), None


def _points(value, criterion):
    """(points or None, error or None): a whole number from 0 to the criterion's maximum."""
    number, error = _number(value)
    if error:
        return None, error
    if number < 0:
        return None, _("%(v)s is negative") % {"v": number}
    if number > criterion.max_points:
        return None, _("%(v)s is above the maximum %(max)s") % {"v": number, "max": criterion.max_points}
    return number, None


def _positions(header):
    """{column key: index} of the columns found by their header text, wherever they stand."""
    names = {header_text: key for key, header_text, _w, _e in COLUMNS}
    return {names[_text(value)]: index for index, value in enumerate(header) if _text(value) in names}


class WorkbookReader:
    """Reads the sheets of one workbook against one campaign's criteria and the municipalities the importer may
    write, collecting every error with its place."""

    def __init__(self, campaign, allowed_municipalities):
        self.criteria = {
            c.code: c
            for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id).select_related(
                "mechanism"
            )
        }
        self.allowed = {m.code: m for m in allowed_municipalities}
        self.seen = {}  # municipality code -> the sheet that holds it
        self.errors = []
        self.sheets = []

    def cell_error(self, sheet, row, column, message):
        self.errors.append(
            _("Sheet «%(sheet)s», row %(row)s, «%(column)s»: %(message)s")
            % {"sheet": sheet, "row": row, "column": HEADERS[column], "message": message}
        )

    def read(self, values, formulas):
        if len(values.sheetnames) > MAX_SHEETS:
            self.errors.append(
                _("The workbook has %(n)s sheets; at most %(max)s are accepted.")
                % {"n": len(values.sheetnames), "max": MAX_SHEETS}
            )
            return
        for title in values.sheetnames:
            formula_rows = _rows(formulas[title]) if formulas else itertools.repeat(())
            sheet = self.read_sheet(title, _rows(values[title]), formula_rows)
            if sheet is not None:
                self.sheets.append(sheet)
        if not self.sheets and not self.errors:
            self.errors.append(_("The workbook has no municipality sheets."))

    def read_sheet(self, title, rows, formula_rows):
        header = next(rows, None)
        next(formula_rows, None)
        if not header or not any(header):
            self.errors.append(_("Sheet «%(sheet)s» is empty: it has no header row.") % {"sheet": title})
            return None
        positions = _positions(header)
        absent = [HEADERS[key] for key in REQUIRED if key not in positions]
        if absent:
            self.errors.append(
                _("Sheet «%(sheet)s»: columns missing: %(columns)s.")
                % {"sheet": title, "columns": ", ".join(f"«{a}»" for a in absent)}
            )
            return None
        sheet, codes = SheetData(title), set()
        for number, (row, formula_row) in enumerate(zip(rows, formula_rows, strict=False), start=2):
            if number > MAX_ROWS:
                self.errors.append(
                    _("Sheet «%(sheet)s» has more than %(max)s rows.") % {"sheet": title, "max": MAX_ROWS}
                )
                break
            self.read_row(sheet, codes, number, _Row(row, formula_row, positions))
        return self.finish_sheet(sheet, codes)

    def read_row(self, sheet, municipality_codes, number, row):
        code = _text(row.get("code"))
        if not code and not any(v not in (None, "") for v in row.values):
            return  # an empty row between others
        if code not in self.criteria:
            self.cell_error(sheet.title, number, "code", _("unknown criterion «%(code)s»") % {"code": code[:20]})
            return
        if code in sheet.rows:
            self.cell_error(sheet.title, number, "code", _("criterion %(code)s appears twice") % {"code": code})
            return
        municipality_codes.add(_text(row.get("municipality")))
        description = _text(row.get("description"))
        if len(description) > MAX_TEXT:
            message = _("longer than %(max)s characters") % {"max": MAX_TEXT}
            self.cell_error(sheet.title, number, "description", message)
        try:
            links = parse_links(_text(row.get("links")))
        except CollectionError as exc:
            self.cell_error(sheet.title, number, "links", exc.message)
            links = []
        points, error = self.row_points(row, self.criteria[code])
        if error:
            self.cell_error(sheet.title, number, "points", error)
        sheet.rows[code] = {"description": description, "links": links, "points": points, "row": number}

    def row_points(self, row, criterion):
        value = row.get("points")
        formula = row.formula("points")
        if value is None and isinstance(formula, str) and formula.startswith("="):
            return None, _("a formula without a computed value; enter the number itself")
        if value in (None, ""):
            return None, None
        return _points(value, criterion)

    def finish_sheet(self, sheet, municipality_codes):
        """The sheet's municipality (one, allowed, not on another sheet) and every criterion present."""
        municipality_codes.discard("")
        if not sheet.rows:
            self.errors.append(_("Sheet «%(sheet)s» has no criteria.") % {"sheet": sheet.title})
            return None
        if len(municipality_codes) != 1:
            self.errors.append(
                _("Sheet «%(sheet)s»: the column «%(column)s» must hold one municipality code.")
                % {"sheet": sheet.title, "column": HEADERS["municipality"]}
            )
            return None
        code = municipality_codes.pop()
        municipality = self.allowed.get(code)
        if municipality is None:
            self.errors.append(
                _("Sheet «%(sheet)s»: the municipality «%(code)s» is not one you may import for in this campaign.")
                % {"sheet": sheet.title, "code": code[:64]}
            )
            return None
        if code in self.seen:
            self.errors.append(
                _("Sheets «%(a)s» and «%(b)s» are both for %(name)s.")
                % {"a": self.seen[code], "b": sheet.title, "name": municipality.name}
            )
            return None
        self.seen[code] = sheet.title
        absent = sorted(set(self.criteria) - set(sheet.rows), key=lambda c: [int(p) for p in c.split(".")])
        if absent:
            self.errors.append(
                _("Sheet «%(sheet)s»: criteria missing: %(codes)s.")
                % {"sheet": sheet.title, "codes": ", ".join(absent[:10]) + ("…" if len(absent) > 10 else "")}
            )
            return None
        sheet.municipality = municipality
        return sheet


@dataclass
class _Row:
    """A row's cells found by column key (a short row lacks its last cells), with the formulas beside them."""

    values: tuple
    formulas: tuple
    positions: dict

    def get(self, key):
        index = self.positions.get(key)
        return self.values[index] if index is not None and index < len(self.values) else None

    def formula(self, key):
        index = self.positions[key]
        return self.formulas[index] if index < len(self.formulas) else None


def read_workbook(data, *, campaign, allowed_municipalities):
    """Parse and check the whole file; returns ([SheetData], [errors])."""
    problem = _precheck(data)
    if problem:
        return [], [problem]
    reader = WorkbookReader(campaign, allowed_municipalities)
    try:
        reader.read(*_open(data))
    except _Unreadable:
        return [], [_damaged()]
    return reader.sheets, reader.errors


# --- against what the product holds, then written ---------------------------------------------------------------


def _current_values(submissions):
    """{submission id: {criterion code: (description, [links], pre-score)}} as the product holds them."""
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


def _refusal(submission, sheet, changed, held):
    """Why this sheet's changes may not be written to this submission (None when they may): only a draft or a
    returned form takes everything; a submitted one takes only the coordinator's points."""
    name = sheet.municipality.name
    if submission.status not in OVERWRITABLE:
        return _("Sheet «%(sheet)s»: the submission of %(name)s is %(status)s and can no longer be overwritten.") % {
            "sheet": sheet.title,
            "name": name,
            "status": submission.get_status_display(),
        }
    if submission.status == Submission.Status.SUBMITTED:
        content = [
            c for c, row in changed.items() if held.get(c, ("", [], None))[:2] != (row["description"], row["links"])
        ]
        if content:
            return _(
                "Sheet «%(sheet)s»: %(name)s has submitted its forms; only the coordinator's points may change (criteria %(codes)s)."
            ) % {"sheet": sheet.title, "name": name, "codes": ", ".join(content[:5])}
    return None


def _plans(sheets, submissions, current, result):
    """[(submission, sheet, {code: row} changed)] and the errors; an unchanged sheet is skipped silently."""
    plans, errors = [], []
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
        refusal = _refusal(submission, sheet, changed, held)
        if refusal:
            errors.append(refusal)
        else:
            plans.append((submission, sheet, changed))
    return plans, errors


def import_workbook(data, *, campaign, user, access):
    """Check the whole file, then write it in one transaction; raise ImportRejected with every error."""
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
        # Every submission of the file locked, in one statement (the one order of locks: submissions first).
        submissions = {
            s.municipality_id: s
            for s in Submission.objects.select_for_update(of=("self",)).filter(
                campaign=campaign, municipality__in=[sheet.municipality for sheet in sheets]
            )
        }
        current = _current_values(submissions.values())
        plans, errors = _plans(sheets, submissions, current, result)
        if errors:
            raise ImportRejected(errors)
        _write(plans, campaign, current, user)
        result.changed = [sheet.municipality.name for _submission, sheet, _changed in plans]
    return result


def _write_answers(plans, criteria, current, user, now):
    """The changed descriptions (new answers in one INSERT, changed ones in one UPDATE); returns
    ({(submission id, code): answer}, ids of the answers created)."""
    submission_ids = [submission.pk for submission, _sheet, _changed in plans]
    answers = {
        (a.submission_id, a.criterion.code): a
        for a in Answer.objects.filter(submission_id__in=submission_ids).select_related("criterion")
    }
    new = [
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
    for answer in Answer.objects.bulk_create(new, batch_size=2000):
        answers[(answer.submission_id, codes[answer.criterion_id])] = answer
    created = {a.pk for a in new}
    changed_answers = []
    for submission, _sheet, changed in plans:
        for code, row in changed.items():
            answer = answers[(submission.pk, code)]
            if answer.pk not in created and answer.description != row["description"]:
                answer.description, answer.updated_at, answer.updated_by = row["description"], now, user
                answer.version += 1
                changed_answers.append(answer)
    Answer.objects.bulk_update(changed_answers, ["description", "updated_at", "updated_by", "version"], batch_size=500)
    return answers, created


def _write_links(plans, answers, created, current):
    """Every changed list of links replaced in one DELETE and one INSERT; the new links go to the checker."""
    changed_links = [
        (answers[(submission.pk, code)], row["links"])
        for submission, _sheet, changed in plans
        for code, row in changed.items()
        if current.get(submission.pk, {}).get(code, ("", [], None))[1] != row["links"]
    ]
    EvidenceLink.objects.filter(answer__in=[a for a, _links in changed_links if a.pk not in created]).delete()
    new_links = EvidenceLink.objects.bulk_create(
        (
            EvidenceLink(answer_id=answer.pk, url=url, position=position)
            for answer, links in changed_links
            for position, url in enumerate(links)
        ),
        batch_size=2000,
    )
    schedule_link_checks([link.pk for link in new_links if link.pk], "saved")


def _write(plans, campaign, current, user):
    """Write every changed sheet with one bulk statement per kind of row, whatever the number of sheets."""
    now = timezone.now()
    criteria = {
        c.code: c
        for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id).select_related("mechanism")
    }
    answers, created = _write_answers(plans, criteria, current, user, now)
    _write_links(plans, answers, created, current)
    points = {
        (submission, code): row["points"]
        for submission, _sheet, changed in plans
        for code, row in changed.items()
        if current.get(submission.pk, {}).get(code, ("", [], None))[2] != row["points"]
    }
    prescores_import(points, criteria, by=user, at=now, comment=_("imported from Excel"))
    Submission.objects.filter(pk__in=[submission.pk for submission, _sheet, _changed in plans]).update(
        last_activity_at=now
    )

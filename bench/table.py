"""The one table `make bench` prints: every figure beside the baseline measured in the same run, the ratio, and
the target. Reads the figures (a JSON object) on stdin or from bench/results.json."""

import json
import sys
from pathlib import Path

# (label, figure, unit, baseline label, baseline figure, target: ("<=" | ">=" | "==", value, applies to))
# A target on "value" compares the figure; on "ratio" the figure divided by its baseline.
ROWS = [
    ("generate_national (full scale)", "national_generate_s", "s", None, None, ("<=", 180, "value")),
    ("Excel export, region of 60", "excel_export_s", "s", None, None, ("<=", 3, "value")),
    ("Excel import, region of 60", "excel_import_s", "s", None, None, ("<=", 5, "value")),
    ("Excel import peak RSS", "excel_import_process_peak_rss_mb", "MB", None, None, ("<=", 300, "value")),
    (
        "recompute national results (median)",
        "recompute_results_again_s",
        "s",
        "plain SQL aggregate (median)",
        "recompute_sql_aggregate_s",
        ("<=", 3, "ratio"),
    ),
    (
        "survey submissions",
        "survey_submit_per_s",
        "req/s",
        "/healthz",
        "survey_healthz_rps",
        (">=", 0.15, "ratio"),
    ),
    ("survey submissions lost", "survey_lost", "", None, None, ("==", 0, "value")),
    (
        "survey first visit, phone 360 px",
        "survey_page_intro_kb",
        "KB",
        "same, decoded",
        "survey_page_intro_decoded_kb",
        ("<=", 150, "value"),
    ),
    (
        "ranking JSON on the wire, br",
        "reports_ranking_json_br_body_kb",
        "KB",
        "raw body",
        "reports_ranking_json_raw_body_kb",
        ("<=", 0.15, "ratio"),
    ),
    (
        "ranking JSON on the wire, gzip",
        "reports_ranking_json_gzip_body_kb",
        "KB",
        "raw body",
        "reports_ranking_json_raw_body_kb",
        ("<=", 0.15, "ratio"),
    ),
    (
        "ranking JSON, 2,400 rows (br)",
        "reports_ranking_json_rps",
        "req/s",
        "static file, same size (br)",
        "reports_static_json_rps",
        (">=", 0.8, "ratio"),
    ),
    (
        "ranking JSON, 2,400 rows (gzip)",
        "reports_ranking_json_gzip_rps",
        "req/s",
        "static file, same size (br)",
        "reports_static_json_rps",
        (">=", 0.8, "ratio"),
    ),
    (
        "ranking JSON, 2,400 rows (br)",
        "reports_ranking_json_rps",
        "req/s",
        "cheapest signed-in page",
        "reports_signed_in_rps",
        None,
    ),
    (
        "cheapest signed-in page (session and user only)",
        "reports_signed_in_rps",
        "req/s",
        "static file, same size (br)",
        "reports_static_json_rps",
        None,
    ),
    (
        "ranking JSON, 2,400 rows (raw)",
        "reports_ranking_json_raw_rps",
        "req/s",
        "/healthz",
        "reports_healthz_rps",
        None,
    ),
    (
        "ranking page, 50 rows, with changes",
        "reports_ranking_html_rps",
        "req/s",
        "cheapest signed-in page",
        "reports_signed_in_rps",
        (">=", 0.5, "ratio"),
    ),
    ("municipal scorecard", "reports_scorecard_rps", "req/s", "/healthz", "reports_healthz_rps", None),
    (
        "queries: ranking JSON",
        "reports_queries_ranking_json_2400",
        "at 2,400",
        "at 10",
        "reports_queries_ranking_json_10",
        ("==", 1, "ratio"),
    ),
    (
        "queries: ranking page",
        "reports_queries_ranking_html_2400",
        "at 2,400",
        "at 10",
        "reports_queries_ranking_html_10",
        ("==", 1, "ratio"),
    ),
    ("queries: ranking page, cached", "reports_queries_ranking_html_2400", "", None, None, ("<=", 6, "value")),
    (
        "queries: scorecard",
        "reports_queries_scorecard_2400",
        "at 2,400",
        "at 10",
        "reports_queries_scorecard_10",
        ("==", 1, "ratio"),
    ),
    (
        "regional PDF, 60 municipalities",
        "reports_region_pdf_s",
        "s",
        "WeasyPrint alone",
        "reports_weasyprint_alone_s",
        ("<=", 1.25, "ratio"),
    ),
    ("national ranking XLSX", "reports_national_xlsx_s", "s", None, None, ("<=", 5, "value")),
]


def _fmt(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def rows(figures):
    for label, key, unit, base_label, base_key, target in ROWS:
        value = figures.get(key)
        base = figures.get(base_key) if base_key else None
        ratio = round(value / base, 4) if isinstance(value, (int, float)) and base else None
        verdict = ""
        if target and value is not None:
            op, limit, on = target
            x = ratio if on == "ratio" else value
            if x is not None:
                met = {"<=": x <= limit, ">=": x >= limit, "==": x == limit}[op]
                verdict = ("met" if met else "MISSED") + f" ({on} {op} {limit})"
        yield label, value, unit, base_label, base, ratio, verdict


def render(figures):
    header = ("figure", "value", "unit", "baseline (same run)", "baseline value", "ratio", "target")
    table = [header] + [tuple(_fmt(c) if i in (1, 4, 5) else (c or "") for i, c in enumerate(r)) for r in rows(figures)]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    lines = []
    for n, r in enumerate(table):
        lines.append(
            "  ".join(
                str(c).rjust(w) if i in (1, 4, 5) else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    source = sys.stdin.read() if not sys.stdin.isatty() else Path("bench/results.json").read_text()
    print(render(json.loads(source)))  # noqa: T201

"""Make the icon subset of the school survey's public pages: static/vendor/bootstrap-icons/survey-icons.css and
fonts/bootstrap-icons-survey.woff2, holding only the icons those pages use (the whole font is 131 KB, the
subset a few: a phone's first visit stays well under 150 KB, see bench/survey_page_bench.py).

Run it again when a survey page uses another icon (tests/test_speed_survey_page.py fails until then and names
the icon): `python bench/icon_subset.py` — the icons are those named in the survey's templates plus ICONS below."""

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
ICONS_DIR = ROOT / "static" / "vendor" / "bootstrap-icons"
FULL_CSS = ICONS_DIR / "bootstrap-icons.min.css"
FULL_FONT = ICONS_DIR / "fonts" / "bootstrap-icons.woff2"
SUBSET_CSS = ICONS_DIR / "survey-icons.css"
SUBSET_FONT = ICONS_DIR / "fonts" / "bootstrap-icons-survey.woff2"
FAMILY = "bootstrap-icons-survey"
# The public pages of a survey link (surveys/views.py): they extend surveys/base_public.html.
TEMPLATES = ROOT / "templates" / "surveys"
ICONS = set()  # icons a survey page sets from a script or a variable, not written in a template
ICON = re.compile(r"\bbi-[a-z0-9]+(?:-[a-z0-9]+)*")


def survey_templates():
    """The survey's public templates: base_public.html, those that extend it, and what they include."""
    found = {TEMPLATES / "base_public.html"}
    for path in TEMPLATES.glob("*.html"):
        if 'extends "surveys/base_public.html"' in path.read_text(encoding="utf-8"):
            found.add(path)
    for path in list(found):
        for name in re.findall(r'{% include "surveys/([^"]+)"', path.read_text(encoding="utf-8")):
            found.add(TEMPLATES / name)
    return sorted(found)


def icons_used():
    names = set(ICONS)
    for path in survey_templates():
        names.update(ICON.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def codepoints(css):
    """{icon name: codepoint} of the full Bootstrap Icons stylesheet."""
    return {
        name: int(code, 16) for name, code in re.findall(r'\.(bi-[a-z0-9-]+)::before\{content:"\\([0-9a-f]+)"\}', css)
    }


def main():
    css = FULL_CSS.read_text(encoding="utf-8")
    points = codepoints(css)
    names = icons_used()
    unknown = [n for n in names if n not in points]
    if unknown:
        sys.exit(f"not a Bootstrap icon: {', '.join(unknown)}")
    font = TTFont(FULL_FONT)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[points[n] for n in names])
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(SUBSET_FONT)
    header = css[: css.index("*/") + 2]
    rules = "".join(f'.{n}::before{{content:"\\{points[n]:x}"}}' for n in names)
    SUBSET_CSS.write_text(
        f"{header}\n/* Only the icons of the school survey's public pages: made by bench/icon_subset.py. */\n"
        f'@font-face{{font-display:block;font-family:{FAMILY};src:url("fonts/{SUBSET_FONT.name}") format("woff2")}}'
        f'.bi::before,[class*=" bi-"]::before,[class^=bi-]::before{{display:inline-block;font-family:{FAMILY}!important;'
        "font-style:normal;font-weight:400!important;font-variant:normal;text-transform:none;line-height:1;"
        "vertical-align:-.125em;-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale}"
        f"{rules}\n",
        encoding="utf-8",
    )
    print(f"{len(names)} icons: {SUBSET_FONT.stat().st_size} bytes of font, {SUBSET_CSS.stat().st_size} of CSS")  # noqa: T201


if __name__ == "__main__":
    main()

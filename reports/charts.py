"""Charts as inline SVG geometry: the same markup works on the page and in the PDF (WeasyPrint draws
SVG), needs no script, and carries its numbers as text for screen readers."""

from dataclasses import dataclass

LEVEL_COLORS = {
    # The same colours as the badges on screen (static/css/app.css).
    "not_formed": "#dc3545",
    "separate_elements": "#fd7e14",
    "partially_formed": "#e0a800",
    "formed": "#198754",
}


@dataclass
class Bar:
    label: str
    value: float
    maximum: float
    level: str
    y: float
    width: float
    full: float
    text: str
    before: int | None = None  # the value in the previous campaign, marked on the bar
    before_x: float | None = None

    @property
    def color(self):
        return LEVEL_COLORS.get(self.level, "#6c757d")


# A phone's card is about 330 px wide: a chart drawn 560 px wide and shrunk into it has 6 px text. A phone gets
# its charts drawn for its width, labels above the bars (the template shows each at its breakpoint).
PHONE_WIDTH = 330
PHONE = {"width": PHONE_WIDTH, "label_above": True}


def _row_layout(count, *, label_above, label_width, row, gap, label_y, label_chars):
    """Where the parts of each row of a bar chart go (the SVG has no layout of its own): the label beside its bar,
    or, `label_above` (a phone), on a line of its own above it with the bar the whole width. Returns the height of
    that label line and the template's positions."""
    top = 15 if label_above else 0
    return top, {
        "label_width": 0 if label_above else label_width,
        "row": row,
        "height": count * (row + gap + top),
        "label_y": 11 if label_above else label_y,
        "label_chars": label_chars[label_above],
        "bar_y": top + 2,
        "bar_height": row - 4,
    }


def bars(items, *, width=560, label_width=215, row=26, gap=8, label_above=False):
    """Horizontal bars of value against its maximum: items are (label, value, maximum, level), or with a fifth
    value, the previous campaign's, marked by a tick on the bar. `label_above`: each label on a line of its own
    above its bar, the bar the whole width (a phone: drawn at its own size, the text stays legible)."""
    top, layout = _row_layout(
        len(items), label_above=label_above, label_width=label_width, row=row, gap=gap, label_y=row - 6,
        label_chars={False: 34, True: 52},
    )  # fmt: skip
    left = layout["label_width"]
    plot = width - left - 70
    result = []
    for i, (label, value, maximum, level, *rest) in enumerate(items):
        before = rest[0] if rest else None
        share = value / maximum if maximum else 0
        result.append(
            Bar(
                label=label,
                value=value,
                maximum=maximum,
                level=level,
                y=i * (row + gap + top),
                width=round(plot * share, 1),
                full=plot,
                text=f"{value} / {maximum}",
                before=before,
                before_x=round(left + plot * min(before / maximum, 1), 1) if before is not None and maximum else None,
            )
        )
    return {
        "bars": result,
        "width": width,
        "plot": plot,
        **layout,
        "text_x": left + plot + 6,
        "text_y": top + row - 6,
        "tick_y2": top + row,
        "tick_y1": top,
    }


def stacked(rows, order, *, width=560, label_width=150, row=22, gap=8, label_above=False):
    """Stacked 100 % bars: rows are (label, {code: count}); segments in `order`. `label_above`: each label on a
    line of its own above its bar, the bar the whole width (a phone, as in bars)."""
    top, layout = _row_layout(
        len(rows), label_above=label_above, label_width=label_width, row=row, gap=gap, label_y=15,
        label_chars={False: 24, True: 48},
    )  # fmt: skip
    plot = width - layout["label_width"] - 10
    result = []
    for i, (label, counts) in enumerate(rows):
        total = sum(counts.values()) or 1
        x, segments = 0.0, []
        for code in order:
            n = counts.get(code, 0)
            w = plot * n / total
            if n:
                segments.append(
                    {"code": code, "n": n, "x": round(x, 1), "width": round(w, 1), "color": LEVEL_COLORS[code]}
                )
            x += w
        result.append({"label": label, "y": i * (row + gap + top), "segments": segments, "total": sum(counts.values())})
    return {"rows": result, "width": width, **layout}


@dataclass
class TrendPoint:
    label: str  # the campaign's year, under the axis
    title: str  # the campaign's title
    total: int
    maximum: int
    share: float
    level: str
    level_label: str
    current: bool  # the campaign of the page
    x: float
    y: float

    @property
    def color(self):
        return LEVEL_COLORS.get(self.level, "#6c757d")


def trend(items, *, width=560, height=190, left=46, right=20, top=22, bottom=34, inset=28):
    """The share of the maximum over campaigns, oldest first, as a line with a dot per campaign: items are
    (label, title, total, maximum, share, level, level label, current). Shares, not points: the maximum may
    differ between campaigns. The y axis runs from 0 to 100 %."""
    plot_w, plot_h = width - left - right, height - top - bottom
    # The dots keep clear of the axis labels: the first and the last are `inset` from the plot's edges.
    step = (plot_w - 2 * inset) / (len(items) - 1) if len(items) > 1 else 0
    points = []
    for i, (label, title, total, maximum, share, level, level_label, current) in enumerate(items):
        x = left + (inset + i * step if len(items) > 1 else plot_w / 2)
        y = top + plot_h * (1 - min(max(float(share), 0.0), 1.0))
        points.append(
            TrendPoint(
                label, title, total, maximum, float(share), level, level_label, current, round(x, 1), round(y, 1)
            )
        )
    grid = [(round(top + plot_h * (1 - g / 100), 1), g) for g in (0, 25, 50, 75, 100)]
    return {
        "points": points,
        "line": " ".join(f"{p.x},{p.y}" for p in points),
        "grid": grid,
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "axis_label_x": left - 6,
        "year_y": height - bottom + 18,
    }

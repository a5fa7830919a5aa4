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

    @property
    def color(self):
        return LEVEL_COLORS.get(self.level, "#6c757d")


def bars(items, *, width=560, label_width=215, row=26, gap=8):
    """Horizontal bars of value against its maximum: items are (label, value, maximum, level)."""
    plot = width - label_width - 70
    result = []
    for i, (label, value, maximum, level) in enumerate(items):
        share = value / maximum if maximum else 0
        result.append(
            Bar(
                label=label,
                value=value,
                maximum=maximum,
                level=level,
                y=i * (row + gap),
                width=round(plot * share, 1),
                full=plot,
                text=f"{value} / {maximum}",
            )
        )
    height = len(items) * (row + gap)
    return {"bars": result, "width": width, "height": height, "label_width": label_width, "row": row, "plot": plot}


def stacked(rows, order, *, width=560, label_width=150, row=22, gap=8):
    """Stacked 100 % bars: rows are (label, {code: count}); segments in `order`."""
    plot = width - label_width - 10
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
        result.append({"label": label, "y": i * (row + gap), "segments": segments, "total": sum(counts.values())})
    return {"rows": result, "width": width, "height": len(rows) * (row + gap), "label_width": label_width, "row": row}

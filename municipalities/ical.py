"""iCalendar (RFC 5545), the little of it the product writes: a calendar of all-day events, for the campaign's
stages and for a person's own deadlines (the events themselves are made in assessment/calendar.py).

Written here rather than by a library: a dozen properties, and the three rules that matter are easy to get wrong
in either: lines end in CRLF; a line longer than 75 octets is folded, never inside a UTF-8 character (Russian
text is two octets a letter); TEXT values escape backslash, semicolon, comma and newlines."""

import re
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.http import HttpResponse
from django.utils import timezone

LINE_OCTETS = 75
PRODID = "-//MUKO//Assessment of municipal mechanisms//RU"
# How often a subscribed calendar app should fetch the feed again (RFC 7986 and the older X-PUBLISHED-TTL).
REFRESH = "PT6H"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # RFC 5545 TEXT admits no control character but tab


@dataclass(frozen=True)
class Event:
    """An all-day event from `starts_on` to `ends_on`, both days included."""

    uid: str
    summary: str
    starts_on: date
    ends_on: date
    description: str = ""
    url: str = ""


def escape_text(value):
    """A TEXT value (RFC 5545 3.3.11): backslash first, then ; and , and every kind of line break as \\n; control
    characters, which TEXT does not admit, are dropped."""
    value = CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def fold(line):
    """Fold a content line to lines of at most 75 octets (CRLF not counted), each continuation starting with one
    space, never splitting a UTF-8 character."""
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line
    parts, start, limit = [], 0, LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back to the character's start
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, LINE_OCTETS - 1  # the leading space of a continuation line is one of its 75 octets
    return "\r\n ".join(parts)


def _utc(moment):
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event, stamp):
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{event.starts_on:%Y%m%d}",
        # DTEND of an all-day event is the day after the last one (RFC 5545 3.6.1).
        f"DTEND;VALUE=DATE:{event.ends_on + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    # A deadline is a day to remember, not a day the person is busy.
    lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    return lines


def calendar(events, *, name, now=None):
    """The whole VCALENDAR as text with CRLF line ends, folded; `name` is what calendar apps call it."""
    stamp = _utc(now or timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    for event in events:
        lines += _event_lines(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def ascii_filename(name):
    """A file name every client takes in Content-Disposition as it is: ASCII letters, digits, dot, dash, underscore."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "calendar.ics"


def calendar_response(text, filename, *, inline=False):
    response = HttpResponse(text.encode(), content_type="text/calendar; charset=utf-8")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{ascii_filename(filename)}"'
    return response

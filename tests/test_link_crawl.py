"""No page links a user to a page they may not open: for every role of the demo, start at the home page and follow
every same-site <a href> (GET only) and assert that none answers 403, 404 or 500.

The crawl is bounded. Pages of one shape are opened once: the same URL pattern, the same campaign, a municipality or
region of the same side (the user's own, or another), the same query keys; so /campaigns/2026/m/kirov/ and
/campaigns/2026/m/kumeny/ are one shape for the coordinator of their region, two for the organizer of one of them.
A download (a file name in the path) is fetched once per URL pattern and never read for links. At most MAX_PAGES
per role. The Django test client, not a browser."""

import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

MAX_PAGES = 90  # per role
BAD = {403, 404, 500}
REDIRECTS = {301, 302, 303, 307, 308}
# One user of each role of the demo (the organizer whose forms were returned), then the anonymous visitor and a
# school's respondent through a survey link.
USERS = ["operator", "ministry", "coordinator-08", "organizer-lagan", "deputy-kirov", "expert-1"]
# Never followed: the logout and the language switch are forms (POST); /static/ holds no page.
SKIP_PREFIXES = ("/accounts/logout/", "/static/", "/i18n/")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html, base):
    """The same-site paths (with their query) an HTML page links to."""
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        href = href.strip()
        if href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            continue
        url = urlsplit(urljoin(base, href))
        if url.scheme not in ("http", "https") or url.netloc not in ("testserver", ""):
            continue
        found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def shape(url, own=frozenset()):
    """Pages of one shape are opened once: the URL pattern, the campaign, whether the municipality or region is one of
    `own` (codes), the query's keys. A download: its URL pattern alone."""
    path, _, query = url.partition("?")
    try:
        match = resolve(path)
    except Resolver404:
        return ("unresolved", path)
    if "." in path.rstrip("/").rsplit("/", 1)[-1]:
        return ("download", match.view_name)
    keys = tuple(sorted({k for k, _v in parse_qsl(query, keep_blank_values=True)}))
    side = ("own" if match.kwargs["code"] in own else "other") if "code" in match.kwargs else ""
    return (match.view_name, match.kwargs.get("slug", ""), side, keys)


def crawl(client, start, own=frozenset()):
    """([(url, status, found on)] of every page opened that answered 403, 404 or 500, the number of pages opened)."""
    queue = deque([(start, "(start)")])
    seen_shapes, seen_urls, problems, opened = set(), set(), [], 0
    while queue and opened < MAX_PAGES:
        url, referrer = queue.popleft()
        if url in seen_urls or url.startswith(SKIP_PREFIXES):
            continue
        seen_urls.add(url)
        key = shape(url, own)
        if key in seen_shapes:
            continue
        seen_shapes.add(key)
        response = client.get(url)
        opened += 1
        if response.status_code in BAD:
            problems.append((url, response.status_code, referrer))
        elif response.status_code in REDIRECTS:
            queue.append((urljoin(url, response["Location"]), url))
        elif response.get("Content-Type", "").startswith("text/html"):  # a download is fetched, never read
            for link in links_of(response.content.decode("utf-8", "replace"), "http://testserver" + url):
                queue.append((link, url))
    return problems, opened


def own_codes(user):
    """The codes of the municipalities and regions the user's appointments name (and of the municipalities of their
    regions): the "own" side of a shape."""
    from municipalities.models import Municipality

    codes = set()
    for a in user.appointments.select_related("region", "municipality"):
        if a.municipality:
            codes.add(a.municipality.code)
        if a.region:
            codes.add(a.region.code)
            codes.update(Municipality.objects.filter(region=a.region).values_list("code", flat=True))
    return frozenset(codes)


def test_no_link_leads_to_a_forbidden_or_missing_page(demo):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from surveys.models import Invitation

    users = get_user_model().objects.in_bulk(USERS, field_name="username")
    client = Client(raise_request_exception=False)  # an error is a 500 to report with the others
    started, cpu = time.monotonic(), time.process_time()
    problems, opened = [], {}
    for username in USERS:
        client.logout()
        client.force_login(users[username])
        found, opened[username] = crawl(client, "/", own_codes(users[username]))
        problems += [f"{username}: {url} → {status} (linked from {referrer})" for url, status, referrer in found]
    client.logout()
    token = Invitation.objects.filter(campaign__slug="2026", completed=False).first().token
    for name, start in (("anonymous", "/accounts/login/"), ("respondent", f"/s/{token}/")):
        found, opened[name] = crawl(client, start)
        problems += [f"{name}: {url} → {status} (linked from {referrer})" for url, status, referrer in found]
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu

    print(f"link crawl: {sum(opened.values())} pages in {elapsed:.1f} s ({cpu:.1f} s of CPU): {opened}")  # noqa: T201 (the figure, with -s)
    assert not problems, "\n".join(problems)
    assert opened["operator"] > 40 and opened["organizer-lagan"] > 20 and opened["anonymous"] > 1, opened
    assert cpu < 30, f"the crawl took {cpu:.0f} s of CPU ({elapsed:.0f} s): {opened}"  # the machine may be shared


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/campaigns/2026/m/kirov/", ("submission_detail", "2026", "own", ())),
        ("/campaigns/2026/m/kumeny/?tab=a", ("submission_detail", "2026", "other", ("tab",))),
        ("/campaigns/2026/regions/43/export.xlsx", ("download", "region_export")),
        ("/campaigns/", ("campaign_list", "", "", ())),
        ("/no/such/page/", ("unresolved", "/no/such/page/")),
    ],
)
def test_pages_of_one_shape_are_opened_once(url, expected):
    assert shape(url, own=frozenset({"kirov"})) == expected


def test_links_of_keeps_same_site_paths_only():
    html = (
        '<a href="/a/">a</a><a href="b/?x=1#top">b</a><a href="#main">skip</a><a href="mailto:x@y.ru">m</a>'
        '<a href="https://example.com/c/">ext</a><a href="http://testserver/d/">d</a><a>none</a>'
    )

    assert links_of(html, "http://testserver/base/") == ["/a/", "/base/b/?x=1", "/d/"]

"""Whether an evidence link is on the education authority's own website (Municipality.website).

The methodology asks for pages of the authority's site (seed 004: «МОУО не были представлены ссылки с сайтов»);
a link elsewhere (a school's site, a file host, the regional portal) is allowed but flagged, because an expert
may not count it. One rule, `on_authority_site`, decides it for the form, the coordinator's pages, the scoring
pages, the regional report and the Excel export."""

from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from assessment.models import EvidenceLink

# Suffixes under which unrelated owners each hold their own name, so that "the same registrable domain" means the
# name one level below them: uo.kalmykia.ru and lagan.kalmykia.ru are two sites, not one. The Russian entries of
# the Public Suffix List (its .ru/.su/.рф part) and the site builders and hosts where municipal authorities'
# and schools' sites commonly live. Kept here rather than read from the system's list so that every machine
# decides alike; a host missing from it only makes its users' sites look like one site (nothing is flagged).
SHARED_SUFFIXES = frozenset(
    """
    ru su xn--p1ai ru.net
    ac.ru edu.ru gov.ru int.ru mil.ru test.ru com.ru net.ru org.ru pp.ru msk.ru spb.ru
    adygeya.ru bashkiria.ru bir.ru cbg.ru dagestan.ru grozny.ru kalmykia.ru kustanai.ru marine.ru mordovia.ru
    mytis.ru nalchik.ru nov.ru pyatigorsk.ru vladikavkaz.ru vladimir.ru
    adygeya.su bashkiria.su bryansk.su dagestan.su grozny.su ivanovo.su kalmykia.su kaluga.su karelia.su
    khakassia.su krasnodar.su kurgan.su mordovia.su msk.su murmansk.su nalchik.su nov.su obninsk.su penza.su
    spb.su tula.su tuva.su vladikavkaz.su vladimir.su vologda.su
    gosweb.gosuslugi.ru edusite.ru ucoz.ru ucoz.net narod.ru 123sait.ru blogspot.ru tilda.ws
    """.split()  # noqa: SIM905 (a list of words reads better than 66 quoted strings)
)


def site_host(url):
    """The host of `url` as the rule compares it: lower case, in ASCII (an IDN such as «кировобр.рф» as its
    punycode), without the trailing dot, the port or a leading «www.». "" when the URL has no host. A website
    typed without its scheme («uo-kirov.ru») is read as a host."""
    url = (url or "").strip()
    if url and "//" not in url:
        url = "//" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # a damaged address (an unclosed "[" of an IPv6 host)
        return ""
    host = host.rstrip(".")
    # Not a valid international name: compared as written, so it matches only itself.
    with suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    host = host.lower()
    return host.removeprefix("www.")


def registrable_domain(host):
    """The name an owner registers, one label below the longest shared suffix: uo-kirov.ru for docs.uo-kirov.ru,
    uo.kalmykia.ru for docs.uo.kalmykia.ru. An IP address or a bare suffix stays as it is."""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or ":" in host:  # a single name, an IPv4 or IPv6 address
        return host
    suffix = 1
    for size in range(len(labels) - 1, 1, -1):
        if ".".join(labels[-size:]) in SHARED_SUFFIXES:
            suffix = size
            break
    return ".".join(labels[-(suffix + 1) :])


def on_authority_site(url, website):
    """Whether `url` is on the authority's own site: its host is the registrable domain of `website` or a
    subdomain of it, whatever the scheme, port or «www.». Without a website on record nothing can be judged,
    and nothing is flagged (True)."""
    home = site_host(website)
    if not home:
        return True
    domain = registrable_domain(home)
    host = site_host(url)
    return host == domain or host.endswith("." + domain)


# As EvidenceLink.is_problem: a check found the page missing, failing or not allowed.
PROBLEM_STATES = frozenset({EvidenceLink.State.DEAD, EvidenceLink.State.FAILING, EvidenceLink.State.REFUSED})


@dataclass
class LinkTally:
    """The evidence links of one form (or a region's forms) by what their checks found so far."""

    total: int = 0
    unchecked: int = 0
    problems: int = 0
    off_site: int = 0

    @property
    def checked(self):
        return self.total - self.unchecked

    def add(self, url, state, website):
        self.total += 1
        self.unchecked += state == EvidenceLink.State.UNCHECKED
        self.problems += state in PROBLEM_STATES
        self.off_site += not on_authority_site(url, website)

    def __iadd__(self, other):
        self.total += other.total
        self.unchecked += other.unchecked
        self.problems += other.problems
        self.off_site += other.off_site
        return self


def link_tallies(submission_ids):
    """{submission id: LinkTally} in one query, whatever the number of links (the region page, the report)."""
    tallies = {pk: LinkTally() for pk in submission_ids}
    rows = EvidenceLink.objects.filter(answer__submission_id__in=submission_ids).values_list(
        "answer__submission_id", "url", "state", "answer__submission__municipality__website"
    )
    for submission_id, url, state, website in rows:
        tallies[submission_id].add(url, state, website)
    return tallies


def tally_of(links, website):
    """The LinkTally of links already loaded (a form's overview)."""
    tally = LinkTally()
    for link in links:
        tally.add(link.url, link.state, website)
    return tally

"""The evidence-link checker: fetch a URL safely, and keep a link's state from a run of such fetches.

Safety: only http(s); every address a host resolves to (the first one and after each redirect) must be
public unless LINKCHECK_ALLOW_PRIVATE; the connection goes to the address that was checked, so a DNS answer
cannot change between the check and the fetch. Size is bounded, and time: LINKCHECK_TIMEOUT is one deadline for the
whole check (connect, TLS, headers, body and every redirect), however slowly a server sends."""

import hashlib
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.models import EvidenceLink, LinkCheck, Submission

MAX_REDIRECTS = 5
USER_AGENT = "MUKO-evidence-checker/1.0 (+assessment of municipal education quality management)"
TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class Refused(Exception):
    """The URL may not be fetched at all (scheme or address)."""


@dataclass
class Fetch:
    ok: bool
    http_status: int | None = None
    final_url: str = ""
    content_type: str = ""
    title: str = ""
    sha256: str = ""
    elapsed_ms: int = 0
    error: str = ""
    refused: bool = False


def _public_address(host, port):
    """Resolve and return one permitted IP address for host, or raise Refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise OSError(_("the host name does not resolve")) from None
    addresses = [info[4][0] for info in infos]
    if not settings.LINKCHECK_ALLOW_PRIVATE:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise Refused(_("the address %(ip)s is internal") % {"ip": address})
    return addresses[0]


class _DeadlineMixin:
    """Each read, write and connect of the socket may wait only until the check's deadline. A socket timeout
    alone bounds one call, not the check: a server that sends a byte just before each timeout (in the
    headers or the body, buffered reads ask again for the rest) would hold the task worker for hours."""

    deadline = None

    def arm(self):
        if self.deadline is None:
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(_("the page took too long"))
        self.settimeout(remaining)

    def recv(self, *args, **kwargs):
        self.arm()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self.arm()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self.arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self.arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    pass


def _connect(ip, port, deadline):
    """A TCP connection to `ip` whose every operation ends by `deadline` (time.monotonic())."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM)
    sock.deadline = deadline
    try:
        sock.arm()
        sock.connect((ip, port))
        sock.arm()  # what is left of the deadline bounds the TLS handshake too (one call, timed as a whole)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed IP with SNI and certificate checks for the host name, within the check's deadline."""

    def __init__(self, host, ip, deadline, **kwargs):
        super().__init__(host, **kwargs)
        self._ip = ip
        self._deadline = deadline
        self._context.sslsocket_class = _DeadlineSSLSocket

    def connect(self):
        self.sock = self._context.wrap_socket(_connect(self._ip, self.port, self._deadline), server_hostname=self.host)
        self.sock.deadline = self._deadline


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, ip, deadline, **kwargs):
        super().__init__(host, **kwargs)
        self._ip = ip
        self._deadline = deadline

    def connect(self):
        self.sock = _connect(self._ip, self.port, self._deadline)


def validate_scheme(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_("only http and https links can be checked"))
    return parts


def fetch(url):
    """Fetch `url` following redirects; never raises for network trouble, returns a Fetch."""
    started = time.monotonic()
    deadline = started + settings.LINKCHECK_TIMEOUT
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = validate_scheme(current)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            # Name resolution has no timeout of its own: the system resolver's (a few seconds) is the most it adds.
            ip = _public_address(parts.hostname, port)
            if parts.scheme == "https":
                connection = _PinnedHTTPSConnection(
                    parts.hostname, ip, deadline, port=port, context=ssl.create_default_context()
                )
            else:
                connection = _PinnedHTTPConnection(parts.hostname, ip, deadline, port=port)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            try:
                connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
                response = connection.getresponse()
                if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                    current = urljoin(current, response.getheader("Location"))
                    continue
                digest, head, size = hashlib.sha256(), b"", 0
                while size < settings.LINKCHECK_MAX_BYTES:
                    if time.monotonic() > deadline:
                        raise TimeoutError(_("the page took too long"))
                    chunk = response.read(min(65536, settings.LINKCHECK_MAX_BYTES - size))
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    if len(head) < 65536:
                        head += chunk[: 65536 - len(head)]
                content_type = (response.getheader("Content-Type") or "")[:200]
                title = ""
                if "html" in content_type:
                    match = TITLE.search(head)
                    if match:
                        charset = response.headers.get_content_charset() or "utf-8"
                        title = " ".join(unescape(match.group(1).decode(charset, "replace")).split())[:500]
                ok = 200 <= response.status < 400
                return Fetch(
                    ok=ok,
                    http_status=response.status,
                    final_url=current[:2000],
                    content_type=content_type,
                    title=title,
                    sha256=digest.hexdigest() if ok else "",
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                    error="" if ok else _("the server answered %(status)s") % {"status": response.status},
                )
            finally:
                connection.close()
        return Fetch(ok=False, final_url=current[:2000], error=_("too many redirects"), elapsed_ms=_ms(started))
    except Refused as exc:
        return Fetch(ok=False, refused=True, final_url=current[:2000], error=str(exc), elapsed_ms=_ms(started))
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
        message = str(exc) or exc.__class__.__name__
        if isinstance(exc, socket.timeout | TimeoutError):
            message = _("no answer within %(s)s s") % {"s": settings.LINKCHECK_TIMEOUT}
        return Fetch(ok=False, final_url=current[:2000], error=message[:500], elapsed_ms=_ms(started))


def _ms(started):
    return int((time.monotonic() - started) * 1000)


RECORDED = [
    "checked_at",
    "http_status",
    "final_url",
    "content_type",
    "error",
    "state",
    "failures",
    "first_failure_at",
    "title",
    "sha256",
]


def record(link, result, reason, now=None):
    """Store one fetch and move the link's state. Failures are forgiven until there are several of them
    spread over time (LINKCHECK_DEAD_AFTER_FAILURES over LINKCHECK_DEAD_AFTER): a site down for an hour
    on deadline day must not mark the municipality's evidence as broken."""
    now = now or timezone.now()
    with transaction.atomic():
        # The submission's lock first, as every writer of a form takes it; then a link the organizer removed
        # while it was being fetched stays removed (a plain save would insert it again).
        submission_id = EvidenceLink.objects.filter(pk=link.pk).values_list("answer__submission_id", flat=True).first()
        if submission_id is not None:
            Submission.objects.locked(submission_id)
        if submission_id is None or not EvidenceLink.objects.filter(pk=link.pk).exists():
            return link
        LinkCheck.objects.create(
            link=link,
            checked_at=now,
            reason=reason,
            ok=result.ok,
            http_status=result.http_status,
            final_url=result.final_url,
            content_type=result.content_type,
            title=result.title,
            sha256=result.sha256,
            elapsed_ms=result.elapsed_ms,
            error=result.error[:500],
        )
        link.checked_at = now
        link.http_status = result.http_status
        link.final_url = result.final_url
        link.content_type = result.content_type
        link.error = result.error[:500]
        if result.ok:
            link.state = EvidenceLink.State.OK
            link.failures = 0
            link.first_failure_at = None
            link.title = result.title
            link.sha256 = result.sha256
        elif result.refused:
            link.state = EvidenceLink.State.REFUSED
        else:
            link.failures += 1
            link.first_failure_at = link.first_failure_at or now
            spread = now - link.first_failure_at >= settings.LINKCHECK_DEAD_AFTER
            enough = link.failures >= settings.LINKCHECK_DEAD_AFTER_FAILURES
            link.state = EvidenceLink.State.DEAD if spread and enough else EvidenceLink.State.FAILING
        link.save(update_fields=RECORDED)
    return link


def check_links(link_ids, reason):
    for link in EvidenceLink.objects.filter(pk__in=link_ids):
        record(link, fetch(link.url), reason)

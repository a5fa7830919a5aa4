"""Pre-compressed cached bodies: a large answer that changes only with a version (the national ranking) is built
once, compressed once per content coding the clients ask for, and kept in the cache beside the raw body; each
request then only picks the coding and sends bytes.

The coding follows the request's Accept-Encoding with its q-values (RFC 9110 §12.5.3): brotli where the client
asks for it and the `brotli` package is there, gzip, else none. No header, or one that accepts no coding we
have, gets the raw body. Every answer carries `Vary: Accept-Encoding`.

ETags: each coding of a body is its own byte sequence, so each gets its own strong ETag — the raw body's ETag,
and `"…-gzip"` / `"…-br"` for the compressed forms (the bytes are the same in every process: no time or name in
the gzip header, fixed levels). The conditional request is answered against the ETag of the coding this request
gets, with Django's weak comparison for If-None-Match, so a client that sends back what it received gets its
304 with the same ETag. (Django's GZipMiddleware instead weakens the ETag — W/"…" for whatever coding — which
compares equal to the raw body's under the same weak comparison; distinct ETags say which bytes a client holds.)"""

import gzip
import re

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers

try:
    import brotli
except ImportError:  # optional: without it, gzip only
    brotli = None

IDENTITY = "identity"
GZIP_LEVEL = 9  # ~0.1 s for a megabyte, once per version: the smallest gzip is worth it
BROTLI_QUALITY = 9  # 11 is 6 % smaller but ~20 times slower (seconds for a megabyte)

_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_Q = re.compile(r"^q=([01](?:\.\d{0,3})?)$", re.IGNORECASE)


def available():
    """The codings this process can make, most preferred first (the smaller output first on a tie)."""
    return ("br", "gzip") if brotli is not None else ("gzip",)


def accepted(header):
    """{coding: q} of an Accept-Encoding value; malformed members are skipped, `x-gzip` is gzip."""
    weights = {}
    for member in (header or "").split(","):
        name, *params = (part.strip() for part in member.split(";"))
        name = name.lower()
        if not name or not _TOKEN.match(name):
            continue
        q = 1.0
        for param in params:
            found = _Q.match(param.replace(" ", ""))
            if found:
                q = min(float(found.group(1)), 1.0)
        name = "gzip" if name == "x-gzip" else name
        weights[name] = max(q, weights.get(name, 0.0)) if name in weights else q
    return weights


def negotiate(header, codings=None):
    """The coding to send for the Accept-Encoding `header` (None when the request has none): one of `codings`
    (available() by default) or IDENTITY. A coding with q=0 is refused; `*` stands for every coding not named;
    on equal q the order of `codings` decides. Identity is the answer when no coding is accepted or identity is named
    with a higher q — also when the client refused identity too (RFC 9110 lets a server disregard the header rather than fail)."""
    if header is None:
        return IDENTITY
    weights = accepted(header)
    star = weights.get("*", 0.0)
    best, best_q = IDENTITY, 0.0
    for coding in codings or available():
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    if best == IDENTITY:
        return IDENTITY
    # Identity is acceptable by default, but not preferred unless named with a higher q.
    return best if best_q >= weights.get(IDENTITY, 0.0) else IDENTITY


def compress(body, coding):
    if coding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    return body


def etag_for(etag, coding):
    """The ETag of the body `etag` (a strong ETag, quoted) in `coding`."""
    if coding == IDENTITY:
        return etag
    return f'{etag[:-1]}-{coding}"'


def cached_response(request, *, key, etag, build, content_type, timeout):
    """The answer to `request` for the body identified by `etag` and cached under `key`: 304 when the client
    holds it; else the body in the coding the client asks for. The raw body is made by `build()` when it is not
    in the cache; each compressed form is cached beside it (`key:br`, `key:gzip`) when it is first asked for."""
    coding = negotiate(request.headers.get("Accept-Encoding"))
    tag = etag_for(etag, coding)
    response = get_conditional_response(request, etag=tag)
    if response is None:
        body = cache.get(f"{key}:{coding}") if coding != IDENTITY else None
        if body is None:
            body = cache.get(key)
            if body is None:
                body = build()
                cache.set(key, body, timeout)
            if coding != IDENTITY:
                body = compress(body, coding)
                cache.set(f"{key}:{coding}", body, timeout)
        response = HttpResponse(body, content_type=content_type)
        if coding != IDENTITY:
            response["Content-Encoding"] = coding
    response["ETag"] = tag
    patch_vary_headers(response, ["Accept-Encoding"])
    return response

"""Speed (issue 17 part 7, 1): the national ranking's cached body is sent pre-compressed — brotli or gzip as the
client's Accept-Encoding asks (q-values), never unasked — with `Vary: Accept-Encoding`, an ETag per coding and
304 for the coding the client holds."""

import gzip
import json

import brotli
import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from municipalities import compression
from municipalities.compression import IDENTITY, negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, IDENTITY),  # no header: nothing unasked
        ("", IDENTITY),  # an empty header: identity only
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("GZip", "gzip"),
        ("gzip, deflate, br", "br"),  # a browser: brotli, the smaller
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),  # the client's preference first
        ("br;q=0, gzip;q=0.1", "gzip"),
        ("gzip;q=0", IDENTITY),
        ("deflate", IDENTITY),  # nothing we make
        ("*", "br"),
        ("*;q=0", IDENTITY),  # refuses all: served raw rather than failed
        ("*;q=0.3, br;q=0", "gzip"),  # the star stands for what is not named
        ("identity, gzip;q=0.5", IDENTITY),  # identity named and preferred
        ("identity;q=0.4, gzip;q=0.5", "gzip"),
        ("gzip;q=0.5", "gzip"),  # identity not named: acceptable, not preferred
        ("gzip;q=banana, br;q=0", "gzip"),  # a malformed q is ignored
        ("gz ip, ;;, br", "br"),  # malformed members are skipped
    ],
)
def test_the_coding_follows_accept_encoding_and_its_q_values(header, expected):
    assert negotiate(header, ("br", "gzip")) == expected


def test_without_brotli_gzip_is_the_best_there_is(monkeypatch):
    monkeypatch.setattr(compression, "brotli", None)

    assert compression.available() == ("gzip",)
    assert negotiate("gzip, deflate, br") == "gzip"
    assert negotiate("br") == IDENTITY


def test_each_coding_has_its_own_etag():
    tags = {compression.etag_for('"abc"', c) for c in (IDENTITY, "gzip", "br")}

    assert tags == {'"abc"', '"abc-gzip"', '"abc-br"'}


def test_a_body_is_built_once_and_each_coding_compressed_once(db):
    cache.clear()
    built = []

    def build():
        built.append(1)
        return b'{"rows": [' + b",".join(b'{"n": %d}' % i for i in range(500)) + b"]}"

    factory = RequestFactory()
    answers = {}
    for header in ("br", "gzip", None, "br", "gzip", None):
        extra = {"HTTP_ACCEPT_ENCODING": header} if header else {}
        response = compression.cached_response(
            factory.get("/x", **extra), key="t", etag='"v1"', build=build, content_type="application/json", timeout=60
        )
        answers.setdefault(header, []).append(response.content)

    assert len(built) == 1
    assert brotli.decompress(answers["br"][0]) == answers[None][0] == gzip.decompress(answers["gzip"][1])
    assert answers["br"][0] == answers["br"][1] and cache.get("t:br") == answers["br"][0]


# --- the ranking API ---------------------------------------------------------------------------------------------


def _get(client, url, **headers):
    return client.get(url, headers=headers)


@pytest.fixture
def ranking(finalized, world, as_role):
    cache.clear()
    return as_role(world, "ministry"), reverse("api-ranking", args=[finalized.slug])


def test_gzip_and_brotli_bodies_decode_to_the_same_json(ranking):
    client, url = ranking

    raw = _get(client, url)
    zipped = _get(client, url, accept_encoding="gzip")
    broken = _get(client, url, accept_encoding="gzip, deflate, br")

    assert raw.status_code == zipped.status_code == broken.status_code == 200
    assert "Content-Encoding" not in raw
    assert zipped["Content-Encoding"] == "gzip" and broken["Content-Encoding"] == "br"
    body = json.loads(raw.content)
    assert len(body["results"]) == 3
    assert json.loads(gzip.decompress(zipped.content)) == body == json.loads(brotli.decompress(broken.content))
    for response in (raw, zipped, broken):
        assert "Accept-Encoding" in response["Vary"] and "Cookie" in response["Vary"]
        assert response["Content-Type"] == "application/json"
        assert "private" in response["Cache-Control"]
    assert len({raw["ETag"], zipped["ETag"], broken["ETag"]}) == 3
    assert zipped["ETag"] == raw["ETag"][:-1] + '-gzip"' and broken["ETag"] == raw["ETag"][:-1] + '-br"'


def test_no_compression_when_not_asked(ranking):
    client, url = ranking

    for header in ("", "identity", "deflate", "gzip;q=0, br;q=0"):
        response = _get(client, url, accept_encoding=header)

        assert response.status_code == 200 and "Content-Encoding" not in response, header
        assert json.loads(response.content)["campaign"]


@pytest.mark.parametrize("header", [None, "gzip", "br"])
def test_304_answers_the_etag_of_the_coding_held(ranking, header):
    client, url = ranking
    headers = {"accept_encoding": header} if header else {}
    first = _get(client, url, **headers)

    again = _get(client, url, if_none_match=first["ETag"], **headers)
    weak = _get(client, url, if_none_match="W/" + first["ETag"], **headers)
    other_coding = _get(client, url, if_none_match=first["ETag"], accept_encoding="deflate" if header else "gzip")

    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert "Accept-Encoding" in again["Vary"]
    assert weak.status_code == 304  # If-None-Match compares weakly (RFC 9110), as Django does
    assert other_coding.status_code == 200 and other_coding["ETag"] != first["ETag"]


def test_the_compressed_ranking_takes_no_more_queries_than_the_raw_one(ranking, django_assert_max_num_queries):
    client, url = ranking
    _get(client, url, accept_encoding="br")
    with django_assert_max_num_queries(100) as raw:
        _get(client, url)

    with django_assert_max_num_queries(len(raw.captured_queries)):
        _get(client, url, accept_encoding="br")

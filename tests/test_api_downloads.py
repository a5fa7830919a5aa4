"""Every file the product sends names itself in a `Content-Disposition` that `curl -OJ`, `wget
--content-disposition` and browsers read (issue 17): plain ASCII, a quoted `filename="…"` when the name is ASCII
(curl reads nothing else) and RFC 6266's `filename*=utf-8''…` when it is not — never the whole header MIME-encoded
(`=?utf-8?b?…?=`), which is what Django makes of a header value it cannot send as Latin-1, and which no client
reads as a file name. The schema was sent so while its title was «МУКО API»."""

import contextlib
import re
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.urls import NoReverseMatch, reverse

from municipalities.tabular import download

PLAIN = re.compile(r'^(inline|attachment); filename="([\x20\x21\x23-\x5b\x5d-\x7e]+)"$')
ENCODED = re.compile(r"^(inline|attachment); filename\*=utf-8''([A-Za-z0-9%!#$&+.^_`|~-]+)$", re.IGNORECASE)


def saved_name(response):
    """The name the download is saved under: the plain quoted filename (all curl -OJ reads), else the RFC 6266
    one (wget, browsers)."""
    value = response["Content-Disposition"]
    assert value.isascii() and "=?" not in value, f"not a header a client reads: {value}"
    plain, encoded = PLAIN.match(value), ENCODED.match(value)
    assert plain or encoded, f"not a header a client reads: {value}"
    return plain.group(2) if plain else unquote(encoded.group(2))


def test_the_schema_downloads_as_muko_api_yaml_or_json(db, client):
    yaml = client.get(reverse("api-schema"))
    json = client.get(reverse("api-schema"), {"format": "json"})
    accepted = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")

    assert [r.status_code for r in (yaml, json, accepted)] == [200, 200, 200]
    assert yaml["Content-Disposition"] == 'inline; filename="muko-api.yaml"'
    assert (saved_name(json), saved_name(accepted)) == ("muko-api.json", "muko-api.json")


def test_a_table_with_a_russian_name_downloads_under_that_name():
    response = download(b"\xef\xbb\xbf", "Рейтинг «Апробация 2020».csv", "text/csv; charset=utf-8")

    assert saved_name(response) == "Рейтинг «Апробация 2020».csv"
    assert response["Content-Disposition"].startswith("attachment; ")


def test_a_quote_in_a_name_does_not_cut_the_header_short():
    response = download(b"", 'muko "2020".csv', "text/csv; charset=utf-8")

    assert response["Content-Disposition"] == r'attachment; filename="muko \"2020\".csv"'


@pytest.mark.parametrize(
    ("name", "args", "file"),
    [
        ("region_export", [], "muko-test-2026-43-кир.xlsx"),
        ("survey_region_links", ["csv"], "muko-test-2026-43-кир-survey-links.csv"),
        ("survey_region_links", ["xlsx"], "muko-test-2026-43-кир-survey-links.xlsx"),
        ("survey_region_evidence_export", [], "muko-test-2026-43-кир-survey.xlsx"),
    ],
)
def test_the_files_of_a_region_whose_code_is_not_ascii(name, args, file, survey_campaign, world, as_role):
    """A region's code is free text (the URL takes any string): its files are named after it."""
    from municipalities.models import Region

    Region.objects.filter(pk=world.region.pk).update(code="43-кир")

    response = as_role(world, "operator").get(reverse(name, args=[survey_campaign.slug, "43-кир", *args]))

    assert response.status_code == 200
    assert saved_name(response) == file


def test_every_other_download_names_itself_plainly(finalized, world, as_role):
    from assessment.models import Attachment
    from reports.models import ReportJob

    job = ReportJob.objects.create(
        kind=ReportJob.Kind.REGION_PDF, campaign=finalized, region=world.region, results_key="k", status="done"
    )
    job.file.save("r.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    attachment = Attachment.objects.get(answer__submission__municipality=world.municipality)
    client = as_role(world, "operator")
    slug = finalized.slug
    expected = {
        reverse("ranking_export", args=[slug, "xlsx"]): "muko-test-2026-ranking.xlsx",
        reverse("ranking_export", args=[slug, "csv"]): "muko-test-2026-ranking.csv",
        reverse("ranking_export", args=[slug, "json"]): "muko-test-2026-ranking.json",
        reverse("region_export", args=[slug, "43"]): "muko-test-2026-43.xlsx",
        reverse("report_download", args=[job.pk]): "muko-test-2026-43-region-pdf.pdf",
        reverse("attachment_download", args=[attachment.pk]): "приказ.pdf",
        reverse("material_file", args=[slug, finalized.material.pk]): None,
    }
    with contextlib.suppress(NoReverseMatch):  # the campaign's calendar (RFC 5545), where this version has it
        expected[reverse("campaign_calendar", args=[slug])] = f"muko-{slug}.ics"

    saved = {}
    for url in expected:
        response = client.get(url)
        assert response.status_code == 200, url
        saved[url] = saved_name(response)

    assert {url: name for url, name in saved.items() if expected[url]} == {
        url: name for url, name in expected.items() if name
    }
    assert all(saved.values())

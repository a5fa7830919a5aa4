"""The evidence-link checker against pages served by the test's own live server."""

import datetime
import socketserver
import threading
import time

import pytest
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import timezone

from assessment import linkcheck
from assessment.models import Answer, EvidenceLink

COUNTER = {"n": 0}


def page(request):
    return HttpResponse("<html><head><title>Приказ № 5 &laquo;О системе&raquo;</title></head><body>текст</body></html>")


def changing(request):
    COUNTER["n"] += 1
    return HttpResponse(f"<html><title>Версия {COUNTER['n']}</title></html>")


def missing(request):
    return HttpResponse("нет", status=404)


def redirect_to_page(request):
    return HttpResponseRedirect("/t/page/")


def redirect_to_metadata(request):
    return HttpResponseRedirect("http://169.254.169.254/latest/meta-data/")


urlpatterns = [
    path("t/page/", page),
    path("t/changing/", changing),
    path("t/missing/", missing),
    path("t/redirect/", redirect_to_page),
    path("t/evil-redirect/", redirect_to_metadata),
]

pytestmark = pytest.mark.urls("tests.test_linkcheck")


@pytest.fixture
def allow_loopback(settings):
    settings.LINKCHECK_ALLOW_PRIVATE = True


def test_a_page_is_fetched_with_status_title_type_and_hash(live_server, allow_loopback):
    result = linkcheck.fetch(f"{live_server.url}/t/page/")

    assert result.ok and result.http_status == 200
    assert result.title == "Приказ № 5 «О системе»"
    assert result.content_type.startswith("text/html")
    assert len(result.sha256) == 64 and result.elapsed_ms >= 0


def test_redirects_are_followed_to_the_final_url(live_server, allow_loopback):
    result = linkcheck.fetch(f"{live_server.url}/t/redirect/")

    assert result.ok and result.final_url.endswith("/t/page/")


def test_a_404_is_a_failure(live_server, allow_loopback):
    result = linkcheck.fetch(f"{live_server.url}/t/missing/")

    assert not result.ok and result.http_status == 404


def test_loopback_and_private_addresses_are_refused_by_default(live_server):
    for url in (f"{live_server.url}/t/page/", "http://10.0.0.1/", "http://169.254.169.254/latest/", "http://[::1]/"):
        result = linkcheck.fetch(url)

        assert result.refused, url


def test_a_redirect_to_an_internal_address_is_refused(live_server, settings):
    settings.LINKCHECK_ALLOW_PRIVATE = True
    first = linkcheck.fetch(f"{live_server.url}/t/evil-redirect/")  # allowed here, so it follows...
    settings.LINKCHECK_ALLOW_PRIVATE = False

    second = linkcheck.fetch(f"{live_server.url}/t/evil-redirect/")

    assert second.refused
    assert not first.ok


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/x"])
def test_only_http_and_https(url):
    assert linkcheck.fetch(url).refused


@pytest.fixture
def link(campaign, world):
    submission = campaign.submissions.get(municipality=world.municipality)
    answer, _ = Answer.objects.get_or_create(
        submission=submission, criterion=campaign.methodology.mechanisms.first().criteria.first()
    )
    return EvidenceLink.objects.create(answer=answer, url="http://127.0.0.1:9/")


def test_a_link_is_dead_only_after_several_failures_spread_over_time(link):
    failure = linkcheck.Fetch(ok=False, error="timeout")
    start = timezone.now()

    linkcheck.record(link, failure, "schedule", now=start)
    linkcheck.record(link, failure, "schedule", now=start + datetime.timedelta(minutes=5))
    linkcheck.record(link, failure, "schedule", now=start + datetime.timedelta(minutes=10))
    assert link.state == EvidenceLink.State.FAILING  # three failures in ten minutes: a brief outage
    linkcheck.record(link, failure, "schedule", now=start + datetime.timedelta(hours=25))

    assert link.state == EvidenceLink.State.DEAD
    assert link.checks.count() == 4


def test_a_success_forgives_earlier_failures(link):
    linkcheck.record(link, linkcheck.Fetch(ok=False, error="x"), "saved")

    linkcheck.record(link, linkcheck.Fetch(ok=True, http_status=200, sha256="a" * 64), "saved")

    assert link.state == EvidenceLink.State.OK and link.failures == 0


def test_a_changed_page_is_flagged_as_changed_since_scoring(link, live_server, allow_loopback):
    link.url = f"{live_server.url}/t/changing/"
    linkcheck.record(link, linkcheck.fetch(link.url), "scoring")
    link.sha256_at_scoring = link.sha256

    linkcheck.record(link, linkcheck.fetch(link.url), "schedule")

    assert link.changed_since_scoring


def test_saving_a_link_schedules_its_check(
    campaign, world, live_server, allow_loopback, settings, django_capture_on_commit_callbacks
):
    from assessment import collection

    settings.LINKCHECK_ENABLED = True
    submission = campaign.submissions.get(municipality=world.municipality)
    criterion = campaign.methodology.mechanisms.get(code="1.1").criteria.get(component__order=2)

    with django_capture_on_commit_callbacks(execute=True):
        answer = collection.answer_save(
            submission=submission,
            criterion=criterion,
            by=world.users["organizer"],
            description="x",
            links_text=f"{live_server.url}/t/page/",
            complete=False,
        )

    link = answer.links.get()
    assert link.state == EvidenceLink.State.OK and link.title.startswith("Приказ")


def test_the_scheduled_command_checks_every_link(link, live_server, allow_loopback, capsys):
    from django.core.management import call_command

    link.url = f"{live_server.url}/t/page/"
    link.save()

    call_command("check_evidence_links", "--workers", "1")

    link.refresh_from_db()
    assert link.state == EvidenceLink.State.OK


# --- the deadline: a server that answers a byte at a time must not hold a check past LINKCHECK_TIMEOUT ------


class _Drip(socketserver.BaseRequestHandler):
    """Reads the request, then answers as slowly as the server's `mode` says, until the client goes away,
    the test ends or DRIP_CAP seconds pass (so that a checker without a deadline still ends the test)."""

    def handle(self):
        server = self.server
        self.request.settimeout(1)
        try:
            self.request.recv(65536)
            if server.mode == "body":
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n")
                payload = iter(lambda: b"x", None)
            elif server.mode == "headers":
                payload = iter(b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 1000000)
                payload = (bytes([b]) for b in payload)
            else:  # "redirect": every hop answers just inside the limit, and sends the checker on again
                time.sleep(server.pause)
                self.request.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
                return
            started = time.monotonic()
            for chunk in payload:
                if server.stop.is_set() or time.monotonic() - started > DRIP_CAP:
                    return
                self.request.sendall(chunk)
                time.sleep(0.2)
        except OSError:
            return  # the checker hung up: what a deadline looks like from here


DRIP_CAP = 8


@pytest.fixture
def dripping(settings):
    """A server on 127.0.0.1 that drips; the check's limit is set to 1 s."""
    settings.LINKCHECK_ALLOW_PRIVATE = True
    settings.LINKCHECK_TIMEOUT = 1
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = False
    server.block_on_close = True  # server_close() joins the handlers: no thread outlives the test
    server.stop = threading.Event()
    server.pause = 0.45
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()
    serving.join()


@pytest.mark.parametrize("mode", ["body", "headers", "redirect"])
def test_a_dripping_server_cannot_hold_a_check_past_its_deadline(dripping, mode, link):
    dripping.mode = mode
    link.url = f"http://127.0.0.1:{dripping.server_address[1]}/slow"
    started = time.monotonic()

    result = linkcheck.fetch(link.url)
    linkcheck.record(link, result, "schedule")

    elapsed = time.monotonic() - started
    assert elapsed < 1 + 1.0, f"{mode}: the check ran {elapsed:.1f} s with a 1 s limit"
    assert not result.ok and not result.refused
    check = link.checks.get()
    assert check.error == "нет ответа в течение 1 с"
    assert link.state == EvidenceLink.State.FAILING


def test_a_link_removed_from_the_form_while_it_was_fetched_stays_removed(link):
    from assessment.models import LinkCheck

    fetched = linkcheck.Fetch(ok=True, http_status=200, sha256="a" * 64)
    EvidenceLink.objects.filter(pk=link.pk).delete()  # the organizer saved the block without it meanwhile

    linkcheck.record(link, fetched, "saved")

    assert not EvidenceLink.objects.filter(pk=link.pk).exists()
    assert not LinkCheck.objects.exists()

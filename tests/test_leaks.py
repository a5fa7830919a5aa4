"""Content-level permission checks (issue 7): pages, exports, API responses and reports never carry a
municipality's or region's non-public data to a role that may not see it.

tests/test_url_access.py checks the status codes; this module checks what the bodies say. Every municipality
and region of the test world gets distinctive markers (answers, evidence links, file names, people, schools,
survey links and free-text answers, reasons of points, expert identities, pre-publication ranks …). Then each
role fetches every URL of the URL × role table (the `own` URL of each row, and the `other` one where the role
may see it) in each of three campaigns (published; in a blind review; finalized, not yet published), the
exports in every format, the API with its session and with a Bearer token, and every report it can request
through the task worker; every body (HTML, JSON, CSV, XLSX cell by cell, PDF text) is scanned for the markers
the policy below forbids that role, whatever the status code.

What is public after publication (names and totals of every municipality in the national ranking) carries no
marker: only non-public data does."""

import contextlib
import html
import io
import json
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessment import scoring
from assessment.models import (
    Answer,
    Appeal,
    Campaign,
    Criterion,
    DeadlineExtension,
    EvidenceLink,
    ExpertConflict,
    Material,
    MechanismAnalysis,
    Result,
    ReviewAssignment,
    Score,
    Stage,
    StatusChange,
    Submission,
)
from assessment.results import results_compute, specs_for
from assessment.services import campaign_save
from municipalities.api_auth import api_token_create
from municipalities.models import Role
from reports import documents
from surveys.models import Invitation, Question, Response, ResponseAnswer
from surveys.services import invitations_create
from tests.factories import AppointmentFactory, SchoolFactory, UserFactory
from tests.test_url_access import ROWS, _report_jobs

# --- the policy ------------------------------------------------------------------------------------------------

# The world's places: municipalities A1 (город Киров) and A2 (Куменский район) of region A (43), B1 (город Элиста)
# of region B (08).
PLACES = {"A1": "kirov", "A2": "kumeny", "B1": "elista"}
REGION_OF = {"A1": "A", "A2": "A", "B1": "B"}
ALL = set(PLACES)

# The municipalities whose forms a role may read: the expert only the submission assigned to it (A1).
FORMS = {
    "operator": ALL,
    "ministry": ALL,
    "coordinator": {"A1", "A2"},
    "organizer": {"A1"},
    "deputy": {"A1"},
    "expert": {"A1"},
    "nobody": set(),
}
# The municipalities whose territory (schools, survey distribution) a role holds: not the expert.
TERRITORY = {**FORMS, "expert": set()}
NATIONAL = {"operator", "ministry"}


def forms(role, subject):
    return subject in FORMS[role]


def territory(role, subject):
    return subject in TERRITORY[role]


def distributes(role, subject):
    """Survey links are answers waiting to be given: for the region that hands them to the schools, never the
    ministry, an expert, or anyone appointed to the municipality being assessed (organizer, deputy)."""
    return territory(role, subject) and role in {"operator", "coordinator"}


def region(role, subject):
    """A region's coordinators and materials: for whoever may read a form of the region."""
    return role in NATIONAL or subject in {REGION_OF[p] for p in FORMS[role]}


def in_review(role, subject):
    """Points while the review runs (blind): the national roles and the region's coordinator only; neither
    the municipality itself, nor an expert (the pre-score and the other expert's scores are hidden from it)."""
    return role in NATIONAL or (role == "coordinator" and forms(role, subject))


def own_expert_score(role, subject):
    return in_review(role, subject) or (role == "expert" and subject in FORMS["expert"])


def national(role, subject):
    return role in NATIONAL


def declared_by(role, subject):
    """A conflict of interest: the operator (admin) and the expert who declared it."""
    return role in NATIONAL or role == subject


POLICY = {
    # kind: (what it is, who may see it)
    "answer": ("answers, evidence links, file names, analysis, reasons of returns and extensions", forms),
    "status": ("a municipality's form (the link to it carries its status and progress)", forms),
    "final": ("reasons of the final points", forms),
    "appeal": ("an appeal's argument", forms),
    "person": ("a municipality's organizers and experts: names, e-mails", forms),
    "survey-text": ("free-text survey answers", forms),
    "school": ("schools: names, e-mails, response rates per school", territory),
    "link": ("survey links (tokens)", distributes),
    "region": ("a region's coordinators and materials", region),
    "prescore": ("pre-scores during a blind review", in_review),
    "expert-score": ("an expert's scores during the review", own_expert_score),
    "other-expert": ("another expert's identity and scores during a blind review", in_review),
    "rank": ("ranks before publication", national),
    "conflict": ("conflicts of interest an expert declared", declared_by),
}


@dataclass(frozen=True)
class Marker:
    kind: str
    subject: str  # a place, a region (A, B) or, for a conflict, the role of the expert who declared it
    text: str

    def allowed(self, role):
        return POLICY[self.kind][1](role, self.subject)


class Markers(list):
    def add(self, kind, subject, text=None):
        assert kind in POLICY
        text = text or f"Утечка{len(self):03d}-{subject}-{kind}"
        self.append(Marker(kind, subject, text))
        return text

    def url(self, kind, subject):
        return self.add(kind, subject, f"https://leak{len(self):03d}-{subject.lower()}.example.org/{kind}")

    def email(self, kind, subject):
        return self.add(kind, subject, f"leak{len(self):03d}-{subject.lower()}@example.org")


# --- the world, with markers everywhere ---------------------------------------------------------------------------

SLUGS = {"published": "test-2026", "review": "review-2026", "hidden": "hidden-2026"}


def _person(markers, username, subject, kind, role, **where):
    user = UserFactory(username=username, last_name=markers.add(kind, subject), email=markers.email(kind, subject))
    if role:
        AppointmentFactory(user=user, role=role, **where)
    return user


def _mark_person(markers, user, subject, kind):
    user.last_name = markers.add(kind, subject)
    user.email = markers.email(kind, subject)
    user.save()


def _finalize(campaign, world, comments):
    """Final points on every criterion (comments from `comments` by place), results and ranks computed."""
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)}
    specs = specs_for(campaign.methodology_id)
    totals = {"kirov": 281, "kumeny": 136, "elista": 190}
    scores = []
    for submission in campaign.submissions.select_related("municipality"):
        place = next(p for p, code in PLACES.items() if code == submission.municipality.code)
        for code, points in scoring.distribute(totals[submission.municipality.code], specs).items():
            scores.append(
                Score(
                    submission=submission,
                    criterion=criteria[code],
                    round=Score.Round.FINAL,
                    points=points,
                    comment=comments.get(place, ""),
                    by=world.users["operator"],
                )
            )
    Score.objects.bulk_create(scores)
    campaign.submissions.update(status=Submission.Status.FINALIZED)
    results_compute(campaign=campaign)


def _stages(today, results_from):
    stages = {stage: (today - timedelta(days=30), today + timedelta(days=30)) for stage in Stage}
    stages[Stage.RESULTS] = (today + timedelta(days=results_from), today + timedelta(days=results_from + 30))
    return stages


@pytest.fixture
def leaky(world, survey_campaign, questionnaires, methodology):
    """The world with markers on every non-public datum of every place, in three campaigns."""
    markers = Markers()
    today = timezone.localdate()
    users = world.users
    places = {"A1": world.municipality, "A2": world.sibling, "B1": world.other_municipality}
    campaign = survey_campaign

    # People: the world's own, and the other places' organizers, deputies, coordinators and experts.
    _mark_person(markers, users["organizer"], "A1", "person")
    _mark_person(markers, users["deputy"], "A1", "person")
    _mark_person(markers, users["coordinator"], "A", "region")
    people = {
        "A2": _person(markers, "leak-org-a2", "A2", "person", Role.ORGANIZER, municipality=world.sibling),
        "B1": _person(markers, "leak-org-b1", "B1", "person", Role.ORGANIZER, municipality=world.other_municipality),
    }
    _person(markers, "leak-dep-b1", "B1", "person", Role.DEPUTY_ORGANIZER, municipality=world.other_municipality)
    coordinator_b = _person(markers, "leak-coord-b", "B", "region", Role.COORDINATOR, region=world.other_region)
    expert_b = _person(markers, "leak-expert-b1", "B1", "person", Role.EXPERT)  # reviewed B1
    second_expert = _person(markers, "leak-expert-2", "A1", "other-expert", Role.EXPERT)  # blind, on A1
    people["A1"] = users["organizer"]

    # Schools: names and e-mails; then the survey links of every school, and free-text answers.
    SchoolFactory(municipality=world.sibling)
    schools = {}
    for place, municipality in places.items():
        school = municipality.schools.get()
        school.name = markers.add("school", place)
        school.short_name = markers.add("school", place)
        school.email = markers.email("school", place)
        school.save()
        schools[place] = school
    invitations_create(campaign=campaign)
    text_question = Question.objects.filter(
        questionnaire__methodology=methodology, kind="text", mechanism__isnull=False
    ).first()
    for place, school in schools.items():
        for invitation in Invitation.objects.filter(campaign=campaign, school=school):
            markers.add("link", place, invitation.token)
        text = markers.add("survey-text", place)
        for _ in range(3):
            response = Response.objects.create(
                campaign=campaign,
                questionnaire=text_question.questionnaire,
                municipality=school.municipality,
                role=text_question.questionnaire.role,
                release=1,
            )
            ResponseAnswer.objects.create(response=response, question=text_question, text=text)

    # Materials of each region.
    for subject, where in (("A", world.region), ("B", world.other_region)):
        Material.objects.create(
            campaign=campaign, region=where, title=markers.add("region", subject), kind=Material.Kind.FAQ
        )

    # The forms: an answer with links and a file, an analysis, a return and an extension, per place.
    criterion = methodology.mechanisms.get(code="1.1").criteria.get(component__order=1)
    for place, municipality in places.items():
        submission = campaign.submissions.get(municipality=municipality)
        answer, _ = Answer.objects.get_or_create(submission=submission, criterion=criterion)
        answer.description = markers.add("answer", place)
        answer.save()
        EvidenceLink.objects.create(answer=answer, url=markers.url("answer", place))
        answer.attachments.update(original_name=markers.add("answer", place) + ".pdf")
        MechanismAnalysis.objects.create(
            submission=submission,
            mechanism=criterion.mechanism,
            conclusions=markers.add("answer", place),
            problems=markers.add("answer", place),
            measures=markers.add("answer", place),
        )
        StatusChange.objects.create(
            submission=submission,
            old="submitted",
            new="returned",
            by=people[place],
            reason=markers.add("answer", place),
        )
        DeadlineExtension.objects.create(
            submission=submission,
            until=today + timedelta(days=40),
            reason=markers.add("answer", place),
            granted_by=users["operator"],
        )
        for slug in SLUGS.values():
            markers.add("status", place, f"/campaigns/{slug}/m/{municipality.code}/")

    # Published: final points with reasons; B1's came from its expert's score; an open appeal of A2.
    comments = {place: markers.add("final", place) for place in places}
    _finalize(campaign, world, comments)
    b1 = campaign.submissions.get(municipality=world.other_municipality)
    ReviewAssignment.objects.create(submission=b1, expert=expert_b, assigned_by=users["operator"])
    expert_score = Score.objects.create(
        submission=b1, criterion=criterion, round="expert", points=1, comment=comments["B1"], by=expert_b
    )
    Score.objects.filter(submission=b1, criterion=criterion, round="final").update(previous=expert_score)
    a2 = campaign.submissions.get(municipality=world.sibling)
    Appeal.objects.create(submission=a2, criterion=criterion, argument=markers.add("appeal", "A2"), by=people["A2"])
    Submission.objects.filter(pk=a2.pk).update(status=Submission.Status.APPEALED)
    ReviewAssignment.objects.create(
        submission=campaign.submissions.get(municipality=world.municipality),
        expert=users["expert"],
        assigned_by=users["operator"],
    )
    ExpertConflict.objects.create(
        expert=users["expert"], municipality=world.other_municipality, reason=markers.add("conflict", "expert")
    )
    ExpertConflict.objects.create(
        expert=expert_b, municipality=world.sibling, reason=markers.add("conflict", "expert-b")
    )

    # In a blind review: the pre-scores, our expert's scores and a second expert's on A1; B1's expert.
    in_review_campaign = campaign_save(
        campaign=Campaign(
            slug=SLUGS["review"],
            title="Кампания на экспертизе",
            year=2026,
            methodology=methodology,
            blind_review=True,
            experts_per_submission=2,
        ),
        stages=_stages(today, 60),
        municipalities=list(places.values()),
        by=users["operator"],
    )
    coordinators = {"A": users["coordinator"], "B": coordinator_b}
    for place, municipality in places.items():
        submission = in_review_campaign.submissions.get(municipality=municipality)
        Submission.objects.filter(pk=submission.pk).update(
            status=Submission.Status.IN_REVIEW if place != "A2" else Submission.Status.PRESCORED
        )
        Score.objects.create(
            submission=submission,
            criterion=criterion,
            round="prescore",
            points=1,
            comment=markers.add("prescore", place),
            by=coordinators[REGION_OF[place]],
        )
    a1 = in_review_campaign.submissions.get(municipality=world.municipality)
    b1 = in_review_campaign.submissions.get(municipality=world.other_municipality)
    for submission, expert, kind, place in (
        (a1, users["expert"], "expert-score", "A1"),
        (a1, second_expert, "other-expert", "A1"),
        (b1, expert_b, "other-expert", "B1"),
    ):
        ReviewAssignment.objects.create(submission=submission, expert=expert, assigned_by=users["operator"])
        Score.objects.create(
            submission=submission,
            criterion=criterion,
            round="expert",
            points=2,
            comment=markers.add(kind, place),
            by=expert,
        )

    # Finalized, not yet published: ranks that only the national roles may see before publication.
    hidden = campaign_save(
        campaign=Campaign(slug=SLUGS["hidden"], title="Кампания до публикации", year=2026, methodology=methodology),
        stages=_stages(today, 10),
        municipalities=list(places.values()),
        by=users["operator"],
    )
    _finalize(hidden, world, {})
    ReviewAssignment.objects.create(
        submission=hidden.submissions.get(municipality=world.municipality),
        expert=users["expert"],
        assigned_by=users["operator"],
    )
    for n, (place, municipality) in enumerate(places.items()):
        Result.objects.filter(campaign=hidden, municipality=municipality).update(
            rank_country=90817 + n, rank_region=60817 + n
        )
        markers.add("rank", place, str(90817 + n))
        markers.add("rank", place, str(60817 + n))

    world.campaign = campaign
    world.own_attachment, world.other_attachment = (
        campaign.submissions.get(municipality=m).answers.get().attachments.get()
        for m in (world.municipality, world.other_municipality)
    )
    world.own_job, world.other_job = _report_jobs(world, campaign)
    world.markers = markers
    cache.clear()  # cached fragments of another test's rows with the same keys
    return world


# --- reading any body ---------------------------------------------------------------------------------------------


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _zip_text(body):
    parts = []
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        for sheet in book.worksheets:
            parts.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                parts.extend(str(v) for v in row if v is not None)
        book.close()
    except Exception:  # not a workbook: the members below still say everything
        pass
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            parts.append(html.unescape(archive.read(name).decode("utf-8", errors="replace")))
    return "\n".join(parts)


def pdf_text(body):
    done = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True)
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else ""


def text_of(response):
    body = body_of(response)
    if body[:4] == b"PK\x03\x04":
        return _zip_text(body)
    text = body.decode("utf-8", errors="replace")
    if body[:5] == b"%PDF-":
        return pdf_text(body) + text
    if "json" in response.get("Content-Type", ""):
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return html.unescape(text)


# --- what each role fetches ---------------------------------------------------------------------------------------

EXTRA = {
    # More formats and filters of the same views.
    "ranking_export": lambda url: [url.replace(".xlsx", ".csv"), url.replace(".xlsx", ".json"), url + "?region=08"],
    "survey_region_links": lambda url: [url.replace(".xlsx", ".csv")],
    "survey_municipality_links": lambda url: [url.replace(".csv", ".xlsx")],
    "ranking": lambda url: [url + "?region=08", url + "?q=elista"],
    "api-ranking": lambda url: [url + "?region=08"],
}
API_DATA = {"api-campaigns", "api-ranking", "api-municipality", "api-response-rates"}
# The other two campaigns hold forms, points and results, no survey links or materials: their pages of those
# are left out (they say the same as the published campaign's, and time counts).
SAME_IN_EVERY_CAMPAIGN = ("/surveys/", "/materials/", "/edit/", "/agreement/", "/experts/")


def urls_for(world, role):
    """(row name, URL) of every GET of the URL × role table (the `own` object, and the `other` one where the role
    may see it), for the published campaign; the same for the other two campaigns where they differ."""
    urls = []
    for name, row in ROWS.items():
        if row.everyone == 405:  # a POST-only action
            continue
        if name == "calendar_feed":
            # The secret address is its owner's: each role reads the feed of its own deadlines.
            from municipalities.notifications import calendar_feed_issue

            urls.append((name, reverse(name, args=[calendar_feed_issue(user=world.users[role]).key])))
            continue
        own = row.own(world)
        reachable = [own, row.other(world)] if row.other and role in row.other_ok else [own]
        for url in [u for base in reachable for u in [base, *EXTRA.get(name, lambda url: [])(base)]]:
            urls.append((name, url))
            if "/test-2026/" in url and not any(part in url for part in SAME_IN_EVERY_CAMPAIGN):
                urls += [(name, url.replace("/test-2026/", f"/{slug}/")) for slug in (SLUGS["review"], SLUGS["hidden"])]
    return urls


# Reports asked for through the pages, made by the task worker (PDF bytes replaced by the HTML they are made of).
REPORT_REQUESTS = [
    ("region_report", "43", {"format": "pdf"}),
    ("region_report", "43", {"format": "xlsx"}),
    ("region_report", "08", {"format": "pdf"}),
    ("feedback_report", "kirov", {}),
    ("feedback_report", "kumeny", {}),
    ("feedback_report", "elista", {}),
]


class Scan:
    """The markers a role met, and those it must not have."""

    def __init__(self, markers, role):
        self.role = role
        self.markers = markers
        self.seen = set()
        self.leaks = set()

    def check(self, where, response):
        # A page may repeat the address asked for (a 404 page, the language form): that says nothing new.
        text = text_of(response).replace(where.split("?")[0], "")
        for marker in self.markers:
            if marker.text in text:
                self.seen.add(marker)
                if not marker.allowed(self.role):
                    self.leaks.add(
                        f"{self.role}: {where} [{response.status_code}]: {POLICY[marker.kind][0]} of {marker.subject}"
                    )


def scan_role(world, role, capture):
    """Every URL, export, API response (session and Bearer token) and report the role can reach."""
    scan = Scan(world.markers, role)
    client = Client()
    client.force_login(world.users[role])
    _token, key = api_token_create(user=world.users[role], name="Проверка утечек")
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for name, url in urls_for(world, role):
        response = client.get(url)
        scan.check(url, response)
        if name in API_DATA:
            by_token = bearer.get(url)
            assert by_token.status_code == response.status_code, url
            scan.check(url, by_token)
    for slug in SLUGS.values():
        for view, code, data in REPORT_REQUESTS:
            with capture(execute=True):
                response = client.post(reverse(view, args=[slug, code]), data)
            if response.status_code != 302 or "/reports/" not in response["Location"]:
                continue
            status = response["Location"]
            scan.check(status, client.get(status))
            scan.check(f"{status}download/", client.get(f"{status}download/"))
    return scan


# Markers each role must meet somewhere: proof that the scan reads what the role is shown.
MUST_SEE = {
    "coordinator": {
        ("answer", "A1"),
        ("answer", "A2"),
        ("link", "A1"),
        ("school", "A2"),
        ("person", "A2"),
        ("prescore", "A1"),
        ("other-expert", "A1"),
        ("final", "A1"),
        ("survey-text", "A1"),
    },
    "organizer": {("answer", "A1"), ("school", "A1"), ("final", "A1"), ("region", "A"), ("survey-text", "A1")},
    "deputy": {("answer", "A1"), ("school", "A1"), ("final", "A1")},
    "expert": {("answer", "A1"), ("expert-score", "A1"), ("final", "A1"), ("survey-text", "A1")},
    "ministry": {
        ("answer", "A1"),
        ("answer", "B1"),
        ("person", "B1"),
        ("school", "B1"),
        ("final", "B1"),
        ("rank", "A1"),
        ("region", "B"),
    },
    "nobody": set(),
}


def test_no_role_is_shown_data_outside_its_scope(leaky, monkeypatch, django_capture_on_commit_callbacks):
    """One world for every role (it takes seconds to build); the leaks of all roles are listed together."""
    monkeypatch.setattr(documents, "pdf_bytes", lambda html: html.encode())
    leaks, missing = [], []
    for role, must in MUST_SEE.items():
        scan = scan_role(leaky, role, django_capture_on_commit_callbacks)
        leaks += sorted(scan.leaks)
        missing += [
            f"{role}: {kind} of {subject}" for kind, subject in sorted(must - {(m.kind, m.subject) for m in scan.seen})
        ]

    assert not leaks, "Shown what the role may not see:\n" + "\n".join(leaks)
    assert not missing, "Never met its own data (does the scan read what is shown?):\n" + "\n".join(missing)


def test_a_real_regional_pdf_carries_nothing_of_another_region(leaky, django_capture_on_commit_callbacks):
    """The same through WeasyPrint and pdftotext, once: the text of the PDF the coordinator downloads."""
    pytest.importorskip("weasyprint")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    client = Client()
    client.force_login(leaky.users["coordinator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("region_report", args=[SLUGS["published"], "43"]), {"format": "pdf"})
    download = client.get(f"{response['Location']}download/")
    body = body_of(download)
    scan = Scan(leaky.markers, "coordinator")
    scan.check(response["Location"], download)

    assert body.startswith(b"%PDF") and "город Киров" in pdf_text(body) and "Куменский район" in pdf_text(body)
    assert not scan.leaks, "\n".join(sorted(scan.leaks))

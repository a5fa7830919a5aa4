"""No 500 on any input: every URL pattern's string segments and every field of every form of the product,
fuzzed with a small fixed set of hostile values, on SQLite and on PostgreSQL (where a NUL in a query
parameter is an error rather than nothing found).

The URLs come from the access table of tests/test_url_access.py (every pattern has a row there); the
forms and their fields from the pages themselves: each role opens the pages it may open, and every form
found there is sent back with one field at a time made hostile, the others as the page filled them in.
Endpoints that scripts post to (the autosaves) are added by hand. Every request runs in a savepoint that is
rolled back, so each one meets the same state; a refused one (an error status, an error message, the form
shown again) must not have changed a row."""

import html.parser
import json
import re
import traceback
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from tests.test_url_access import ROWS, expected

# --- hostile values -------------------------------------------------------------------------------------------

SEGMENTS = {
    "nul": "kirov\x00",
    "long": "x" * 10_000,  # matches `slug` too, so it reaches the view
    "dotdot": "../",
    "unicode": "Киров\u202e😀",
}
HUGE_ID = "9" * 30  # for `int` segments: more digits than any database integer


TEXT_INPUTS = {"text", "textarea", "password", "email", "search", "url"}


def hostile_fields(values, kind):
    """What one field is replaced with: a NUL, 10 000 characters, letters (and a digit int() takes but is not
    ASCII) where a number or a choice is expected, a list where one value is expected (its last item a number
    no database integer holds), and nothing at all where something was."""
    value = values[0] if values else ""
    hostile = {"nul": value + "\x00", "long": "9" * 10_000}
    if kind not in TEXT_INPUTS or value.isdigit():  # letters, and a few lines of them, are what text is for
        hostile["word"] = "abc ٣\u202e😀"
        hostile["list"] = [value, "\x00x", HUGE_ID]
    if value:
        hostile["empty"] = ""
    return hostile


def hostile_json(fields):
    """JSON bodies with the form's fields of the wrong type, and bodies that are no object at all."""
    names = list(fields) or ["x"]
    return {
        "json-null": json.dumps(dict.fromkeys(names)),
        "json-object": json.dumps({n: {"a": [1]} for n in names}),
        "json-number": json.dumps(dict.fromkeys(names, 12345678901234567890)),
        "json-list": json.dumps([1, "a", None]),
        "json-broken": '{"' + names[0] + '": ',
    }


# --- sending one request: never a 500, and a refusal writes nothing --------------------------------------------

WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
WATCHED_APPS = ("assessment", "surveys", "municipalities", "reports", "auth")


def _watched():
    return {m._meta.db_table: m for label in WATCHED_APPS for m in apps.get_app_config(label).get_models()}


def fingerprint(tables=None):
    """Every row of the product's tables (and the users'), but for the time of the last login; only of
    `tables` when given."""
    state = {}
    for table, model in _watched().items():
        if tables is None or table in tables:
            fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
            state[table] = list(model.objects.order_by("pk").values_list(*fields))
    return state


def _written(queries):
    """The watched tables a statement may have changed (a write rolled back by the view still counts here:
    the rows are compared afterwards)."""
    watched = _watched()
    tables = {m[1] for q in queries if (m := WRITE.match(q["sql"]))}
    return tables & set(watched)


def _where(exc):
    """The last line of the product's own code in a traceback (the one to fix)."""
    base = str(settings.BASE_DIR)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(base)]
    frames = [f for f in frames if "/.venv/" not in f.filename and "/tests/" not in f.filename] or frames
    frame = frames[-1] if frames else None
    at = f"{Path(frame.filename).relative_to(base)}:{frame.lineno} {frame.line}" if frame else "?"
    return f"{type(exc).__name__}: {str(exc)[:120]} at {at}"


def _error_messages(response):
    storage = getattr(response.wsgi_request, "_messages", None)
    return [m for m in getattr(storage, "_queued_messages", []) if m.level_tag == "error"]


def refused(method, response):
    """The request was not accepted: an error status, an error message, or (for a POST) the form shown again."""
    if response.status_code >= 400 or _error_messages(response):
        return True
    if method == "get":
        return False
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        return isinstance(body, dict) and body.get("ok") is False
    return response.status_code == 200


class Fuzzer:
    """Sends requests in a savepoint rolled back after each, collecting every failure with where it came from."""

    def __init__(self, client):
        self.client = client
        self.failures = []
        self.sent = 0
        self._before = None

    @contextmanager
    def _rolled_back(self):
        cookies = self.client.cookies
        self.client.cookies = type(cookies)(cookies)
        try:
            with transaction.atomic():
                yield
                transaction.set_rollback(True)
        finally:
            self.client.cookies = cookies

    def send(self, label, method, url, data=None, **extra):
        if self._before is None:
            self._before = fingerprint()
        self.sent += 1
        reset_queries()  # a full query log (9000) would leave the capture below empty
        with self._rolled_back(), CaptureQueriesContext(connection) as queries:
            try:
                response = getattr(self.client, method)(url, data, **extra)
            except Exception as exc:  # the test client re-raises what became a 500
                self.failures.append(f"{label}: {method.upper()} {url[:120]!r}: {_where(exc)}")
                return None
            if response.status_code >= 500:
                self.failures.append(f"{label}: {method.upper()} {url[:120]!r}: status {response.status_code}")
                return response
            written = _written(queries.captured_queries) if refused(method, response) else set()
            if written:
                after = fingerprint(written)
                changed = sorted(k for k in after if after[k] != self._before[k])
                if changed:
                    self.failures.append(f"{label}: {method.upper()} {url[:120]!r} was refused and changed {changed}")
        return response

    def check(self):
        assert not self.failures, f"{len(self.failures)} of {self.sent} requests failed:\n" + "\n".join(
            self.failures[:60]
        )


# --- whose view is it -------------------------------------------------------------------------------------------


def owner(url):
    """The group of the view behind `url`: surveys (lives in surveys/), admin, or product."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return "product"
    module = getattr(match.func, "__module__", "") or ""
    if hasattr(match.func, "view_class"):
        module = match.func.view_class.__module__
    if match.namespace == "admin" or module.startswith("django.contrib.admin"):
        return "admin"
    return "surveys" if module.startswith("surveys") else "product"


# --- the world the requests meet ----------------------------------------------------------------------------------

ROLE_ORDER = ["operator", "coordinator", "organizer", "expert", "ministry", "deputy", "nobody", "anonymous"]


def _prepare_world(world, campaign, request):
    """The test campaign with something for every role's forms: kirov being filled in (the organizer), kumeny
    submitted (the coordinator pre-scores it), elista in expert review (the expert assigned to it, a second
    expert free to be assigned); an API token and an unread notification for everyone."""
    from assessment.models import CampaignDocument, Criterion, ReviewAssignment, Score, Submission
    from municipalities.api_auth import api_token_create
    from municipalities.models import Notification, Role
    from tests.factories import AppointmentFactory, UserFactory
    from tests.test_url_access import _report_jobs

    world.campaign = campaign
    subs = {s.municipality.code: s for s in campaign.submissions.select_related("municipality")}
    world.second_expert = AppointmentFactory(
        user=UserFactory(username="t-expert-2"), role=Role.EXPERT, region=world.region
    ).user
    if "finalized" not in request.fixturenames:
        Submission.objects.filter(pk=subs["kumeny"].pk).update(status=Submission.Status.SUBMITTED)
        Submission.objects.filter(pk=subs["elista"].pk).update(status=Submission.Status.IN_REVIEW)
        ReviewAssignment.objects.create(
            submission=subs["elista"], expert=world.users["expert"], assigned_by=world.users["operator"]
        )
        # Points already given, so that the scoring pages send a score's id back (and a hostile one reaches
        # the comparison with the stored score).
        criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1")
        for code, round, by in (
            ("kumeny", Score.Round.PRESCORE, world.users["coordinator"]),
            ("elista", Score.Round.PRESCORE, world.users["operator"]),
            ("elista", Score.Round.EXPERT, world.users["expert"]),
        ):
            Score.objects.create(submission=subs[code], criterion=criterion, round=round, points=1, by=by)
    world.own_attachment, world.other_attachment = (
        subs[code].answers.get().attachments.get() for code in ("kirov", "elista")
    )
    world.own_job, world.other_job = _report_jobs(world, campaign)
    # An order of the coordinator's region in the campaign's basis: the form that removes it.
    CampaignDocument.objects.create(campaign=campaign, title="Приказ", number="1", region=world.region)
    for user in world.users.values():
        if user is not None:
            api_token_create(user=user, name="скрипт")
            Notification.objects.create(user=user, kind=Notification.Kind.RESULT, title="Итоги", path="/")


def _results_world(world, campaign):
    """The finalized campaign (appeals open): kirov appealed on 1.1.1, kumeny back in review with two experts
    who disagree (the reconciliation form), elista pre-scored (to be sent to the experts)."""
    from assessment import appeals
    from assessment.models import Criterion, ReviewAssignment, Score, Submission
    from municipalities.access import access_for

    subs = {s.municipality.code: s for s in campaign.submissions.select_related("municipality", "campaign")}
    criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1")
    organizer = world.users["organizer"]
    appeals.appeal_file(
        submission=subs["kirov"], items=[(criterion, "Не учтён приказ")], by=organizer, access=access_for(organizer)
    )
    kumeny = subs["kumeny"]
    Submission.objects.filter(pk=kumeny.pk).update(status=Submission.Status.IN_REVIEW)
    Submission.objects.filter(pk=subs["elista"].pk).update(status=Submission.Status.PRESCORED)
    for expert, points in ((world.users["expert"], 0), (world.second_expert, criterion.max_points)):
        ReviewAssignment.objects.create(submission=kumeny, expert=expert, assigned_by=world.users["operator"])
        Score.objects.create(submission=kumeny, criterion=criterion, round=Score.Round.EXPERT, points=points, by=expert)


def _plans_world(world, campaign):
    """Plans of measures answering the finalized campaign, one in each state a form needs: kirov's approved (its
    organizer reports progress), kumeny's a draft (the same person, deputy organizer there, edits and submits it),
    elista's submitted (the operator approves or returns it)."""
    from assessment.models import Criterion, Measure, MeasurePlan
    from municipalities.models import Appointment, Role

    Appointment.objects.create(user=world.users["organizer"], role=Role.DEPUTY_ORGANIZER, municipality=world.sibling)
    criterion = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1")
    states = ((world.municipality, "approved"), (world.sibling, "draft"), (world.other_municipality, "submitted"))
    for municipality, status in states:
        plan = MeasurePlan.objects.create(
            campaign=campaign, municipality=municipality, status=status, created_by=world.users["operator"]
        )
        measure = Measure.objects.create(
            plan=plan,
            title="Семинар для руководителей школ",
            responsible="Иванова М. П.",
            due_on=timezone.localdate() + timedelta(days=60),
            expected_result="Проведён семинар",
            indicator="Доля школ",
        )
        measure.criteria.set([criterion])
    world.scene_pages = {
        "organizer": [reverse("measure_plan", args=[campaign.slug, "kumeny"])],
        "operator": [reverse("measure_plan", args=[campaign.slug, "elista"])],
    }


# --- part 1: URL segments -----------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _role_for(row):
    if row.everyone is not None:  # a page for everyone or an action only posted to: the one who may do most
        return ["operator", "organizer"] if row.post == 302 and row.everyone == 405 else ["operator"]
    for role in ROLE_ORDER:
        if expected(row, role, "own") == 200:
            return [role]
    return ["operator"]


def fuzzed_urls(url):
    """(label, URL) for the URL with each of its string segments (and its ids) replaced by a hostile value."""
    match = resolve(urlsplit(url).path)
    route = match.route
    if not route or "(?P" in route or "^" in route:  # a regex pattern (the admin's): fuzzed by hand below
        return
    values = {k: str(v) for k, v in match.kwargs.items()}
    for target in PLACEHOLDER.finditer(route):
        converter = target["converter"] or "str"
        if converter == "int":
            hostile = {"huge": HUGE_ID}
        elif converter in ("str", "slug", "path"):
            hostile = SEGMENTS
        else:  # uuid: nothing but a UUID matches it
            continue
        for key, value in hostile.items():

            def fill(m, target=target, value=value):
                return quote(value, safe="") if m.start() == target.start() else quote(values[m["name"]], safe="")

            yield f"{target['name']}={key}", "/" + PLACEHOLDER.sub(fill, route)


ADMIN_URLS = [
    "/admin/assessment/campaign/{}/change/",
    "/admin/assessment/{}/",
    "/admin/municipalities/municipality/?q={}",
    "/admin/{}/",
]


def _segment_fuzz(world, as_role, group):
    fuzzer = None
    for role in ROLE_ORDER:
        names = [n for n, row in ROWS.items() if role in _role_for(row)]
        if not names:
            continue
        client = as_role(world, role)
        fuzzer = fuzzer or Fuzzer(client)
        fuzzer.client = client
        for name in names:
            row = ROWS[name]
            url = row.own(world)
            if owner(url) != group:
                continue
            method = "post" if row.everyone == 405 else "get"
            for label, bad in fuzzed_urls(url):
                fuzzer.send(f"{name} {label} as {role}", method, bad)
    if group == "admin":
        world.users["operator"].is_staff = world.users["operator"].is_superuser = True
        world.users["operator"].save()
        fuzzer = Fuzzer(as_role(world, "operator"))
        for pattern in ADMIN_URLS:
            for key, value in SEGMENTS.items():
                fuzzer.send(f"admin {key}", "get", pattern.format(quote(value, safe="")))
    return fuzzer


@pytest.mark.parametrize("group", ["product", "surveys", "admin"])
def test_every_string_segment_of_every_url_is_fuzzed(group, world, survey_campaign, as_role, request):
    _prepare_world(world, survey_campaign, request)

    fuzzer = _segment_fuzz(world, as_role, group)

    assert fuzzer.sent >= (len(ADMIN_URLS) * len(SEGMENTS) if group == "admin" else 40)
    fuzzer.check()


def test_a_control_character_in_any_path_is_a_404_before_any_view(world, campaign, as_role):
    client = as_role(world, "operator")

    pages = [
        client.get(f"/territory/{quote(world.region.code)}%00/"),
        client.get("/territory/%01/"),
        client.get("/campaigns/test-2026/m/kirov%00/"),
        client.post("/campaigns/test-2026/m/kirov/criteria/1.1.1%00/save/", {"description": "x"}),
        client.get("/static/%00.css"),
    ]
    api = client.get("/api/v1/campaigns/test-2026%00/ranking/")

    assert [p.status_code for p in pages] == [404] * len(pages)
    assert "Страница не найдена" in pages[0].content.decode()
    assert api.status_code == 404 and api.json()["detail"]


# --- part 2: every field of every form ---------------------------------------------------------------------------


class FormParser(html.parser.HTMLParser):
    """The forms of a page: method, action and each field's values as a browser would send them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = self._select = self._option = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or "",
                "fields": {},
                "types": {},
            }
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in a:
            return
        fields, name = self._form["fields"], a.get("name")
        if name and tag in ("input", "select", "textarea", "button"):
            self._form["types"].setdefault(name, (a.get("type") or "text") if tag == "input" else tag)
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                fields.setdefault(name, [])
                if "checked" in a:
                    fields[name].append(a.get("value") or "on")
            elif kind == "file":
                fields.setdefault(name, [])
            elif kind not in ("reset", "image", "button"):
                if kind == "submit" and name in fields:
                    return  # the first of several named buttons is the one pressed
                fields.setdefault(name, []).append(a.get("value") or "")
        elif tag == "button" and name and (a.get("type") or "submit") == "submit":
            fields.setdefault(name, [a.get("value") or ""])
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "chosen": [], "multiple": "multiple" in a}
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            if self._option is not None:
                self._option_seen(self._option, "selected" in a)
            else:
                self._option = ("", "selected" in a)
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = [""]

    def _option_seen(self, value, selected):
        if self._select["first"] is None:
            self._select["first"] = value
        if selected:
            self._select["chosen"].append(value)

    def handle_data(self, data):
        if isinstance(self._option, tuple):
            self._option = (self._option[0] + data, self._option[1])
        if self._textarea and self._form:
            self._form["fields"][self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "option" and isinstance(self._option, tuple):
            self._option_seen(self._option[0].strip(), self._option[1])
            self._option = None
        elif tag == "select" and self._select and self._form:
            s = self._select
            chosen = s["chosen"] or ([] if s["multiple"] or s["first"] is None else [s["first"]])
            self._form["fields"][s["name"]] = chosen
            self._select = None
        elif tag == "textarea":
            if self._textarea and self._form:
                value = self._form["fields"][self._textarea][0]
                self._form["fields"][self._textarea][0] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "form":
            self._form = None


def kind_of(name, types):
    """Fields that differ only by a criterion's or question's code, and are the same kind of input, are one
    kind: one of them is fuzzed (the points of 1.1.1 stand for those of 4.3.3; a survey's radio buttons, check
    boxes, numbers and texts are four kinds)."""
    return re.sub(r"\d+(?:\.\d+)*", "#", name) + ":" + str(types.get(name, "")).lower()


def _url_name(path):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


FILE_ROUTE = re.compile(r"\.(\w+|<\w+:\w+>)$|/(file|download)/$")  # an export or a download: no forms in it


def pages_for(world, role, extra, group):
    """The pages of the group's views the role may open (the access table's own object, and `extra`)."""
    urls = [row.own(world) for row in ROWS.values() if expected(row, role, "own") == 200]
    return [
        url
        for url in extra.get(role, []) + urls
        if owner(url) == group and not FILE_ROUTE.search(resolve(urlsplit(url).path).route or "")
    ]


def discover_forms(client, world, role, extra, group, found):
    """Adds {(url name, kinds): (role, method, action, fields)} for every form on every page the role may open
    that no role before it has found."""
    for url in pages_for(world, role, extra, group):
        response = client.get(url, follow=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = FormParser()
        parser.feed(response.content.decode())
        page = response.request["PATH_INFO"]
        for form in parser.forms:
            parts = urlsplit(form["action"])
            path = parts.path or page
            name = _url_name(path)
            if name is None:
                continue
            action = path + (f"?{parts.query}" if parts.query else "")
            key = (name, frozenset(kind_of(f, form["types"]) for f in form["fields"]))
            found.setdefault(key, (role, form["method"], action, form["fields"], form["types"]))


def hand_made(world, campaign):
    """Endpoints only scripts post to (form.js; survey.js is added from the survey page): their fields as the
    scripts send them."""
    return {
        ("answer_save", None): (
            "organizer",
            "post",
            reverse("answer_save", args=[campaign.slug, "kirov", "1.1.1"]),
            {"description": ["Приказ"], "links": [""], "complete": ["on"], "version": ["0"]},
            {},
        ),
        ("analysis_save", None): (
            "organizer",
            "post",
            reverse("analysis_save", args=[campaign.slug, "kirov", "1.1"]),
            {"conclusions": ["Вывод"], "problems": [""], "measures": [""], "version": ["0"]},
            {},
        ),
    }


def _survey_pages(campaign, world):
    """The respondent's survey, a real link: its start and its pages (survey.js posts their fields to the
    autosave too)."""
    from surveys.models import Invitation

    invitation = Invitation.objects.filter(campaign=campaign, school=world.school).order_by("pk").first()
    url = reverse("survey", args=[invitation.token])
    return [url] + [f"{url}?p={n}" for n in range(1, 9)]


def _extra_pages(world, campaign):
    """Pages outside the access table's rows that hold forms: a real invitation, a real password reset link."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from municipalities.mail import unsubscribe_token
    from municipalities.models import Appointment, Invitation, Role
    from municipalities.notifications import calendar_feed_issue
    from municipalities.people import _hash
    from tests.factories import UserFactory

    slug = campaign.slug
    newcomer = UserFactory(username="t-newcomer", password=None)
    appointment = Appointment.objects.create(user=newcomer, role=Role.ORGANIZER, municipality=world.sibling)
    token = "fuzz-invitation-token-0123456789abcdefghijklmnop"
    Invitation.objects.create(
        appointment=appointment,
        token_hash=_hash(token),
        created_by=world.users["coordinator"],
        expires_at=timezone.now() + timedelta(days=7),
    )
    forgetful = UserFactory(username="t-forgetful")  # never logs in here: a login would void the reset link
    reset = reverse(
        "password_reset_confirm",
        args=[urlsafe_base64_encode(force_bytes(forgetful.pk)), default_token_generator.make_token(forgetful)],
    )
    # The organizer's calendar address (the settings page then shows the forms that renew and revoke it), and a
    # real one-click unsubscribe link (its page asks first, in a form).
    calendar_feed_issue(user=world.users["organizer"])
    unsubscribe = reverse("unsubscribe", args=[unsubscribe_token(world.users["organizer"].pk, "deadline")])
    pages = {
        "anonymous": [reverse("invitation_accept", args=[token]), reset, unsubscribe, *_survey_pages(campaign, world)],
        "coordinator": [reverse(name, args=[slug, "kumeny"]) for name in ("scoring_page", "submission_detail")],
        "expert": [reverse("expert_scoring", args=[slug, "elista"])],
        "operator": [reverse("submission_detail", args=[slug, code]) for code in ("kumeny", "elista")],
    }
    for role, urls in getattr(world, "scene_pages", {}).items():  # a scene's own pages (_plans_world)
        pages.setdefault(role, []).extend(urls)
    return pages


def _posted(fields, name, value):
    data = {k: list(v) for k, v in fields.items() if v}
    data[name] = value
    return data


# The roles whose pages are searched for forms, the one who acts on a form first (a form found by several
# roles is fuzzed as the first: the organizer fills the forms in, the operator sees every page).
CRAWLERS = ["organizer", "coordinator", "expert", "operator", "anonymous"]


def _form_fuzz(world, campaign, as_role, scene, group):
    extra = _extra_pages(world, campaign)
    forms = {}
    for role in CRAWLERS:
        discover_forms(as_role(world, role), world, role, extra, group, forms)
    forms.update(hand_made(world, campaign))
    for (name, kinds), (role, method, action, fields, types) in list(forms.items()):
        if name == "survey":  # survey.js sends the page's own fields to the autosave
            forms[("survey_autosave", kinds)] = (role, method, action.rstrip("/") + "/autosave/", fields, types)
    # Each world fuzzes the forms it is there for (the others meet the same code in another world).
    mine = {key: form for key, form in forms.items() if owner(form[2]) == group and key[0] in COVERS[scene, group]}
    covered = {name for name, _kinds in mine}

    fuzzer, logged_in = Fuzzer(None), None
    for (name, _kinds), (role, method, action, fields, types) in sorted(
        mine.items(), key=lambda kv: (kv[1][0], kv[0][0])
    ):
        if role != logged_in:  # the respondent keeps the cookie the survey gave their browser
            fuzzer.client, logged_in = as_role(world, role), role
        headers = {"HTTP_ACCEPT": "application/json"} if name in JSON_ENDPOINTS else {}
        seen_kinds = set()
        for field in fields:
            kind = kind_of(field, types)
            if kind in seen_kinds:
                continue
            seen_kinds.add(kind)
            for label, value in hostile_fields(fields[field], str(types.get(field, "")).lower()).items():
                fuzzer.send(
                    f"{name} [{field}={label}] as {role}", method, action, _posted(fields, field, value), **headers
                )
        if name in JSON_ENDPOINTS:
            for label, body in hostile_json(fields).items():
                fuzzer.send(
                    f"{name} [{label}] as {role}",
                    "post",
                    action,
                    body,
                    content_type="application/json",
                    HTTP_ACCEPT="application/json",
                )
    return fuzzer, covered


JSON_ENDPOINTS = {"answer_save", "analysis_save", "survey_autosave"}


def post_url_names():
    """Every URL of the access table that takes a POST (its row says so): the list the forms must cover."""
    return {name for name, row in ROWS.items() if row.post != 405 or row.everyone == 405}


# Which POST URLs (and pages with a GET form: filters, the what-if) each world shows a form for, or the
# scripts post to: checked against the pages in every run, and against the access table below, so that a
# new form cannot be left out.
COVERS = {
    ("collecting", "product"): {
        "answer_save",
        "analysis_save",
        "api_token_new",
        "api_token_revoke",
        "attachment_remove",
        "attachment_upload",
        "calendar_feed_new",
        "calendar_feed_revoke",
        "campaign_basis",
        "campaign_basis_remove",
        "campaign_create",
        "campaign_edit",
        "campaign_materials",
        "expert_complete",
        "expert_scoring",
        "experts_auto",
        "invitation_accept",
        "login",
        "logout",
        "material_remove",
        "notification_settings",
        "notifications_read",
        "password_change",
        "password_reset",
        "password_reset_confirm",
        "people",
        "people_resend",
        "prescore_complete",
        "region_import",
        "region_remind",
        "scoring_page",
        "set_language",
        "submission_extend",
        "submission_mechanism",
        "submission_return",
        "submission_submit",
        "unsubscribe",
    },
    ("collecting", "surveys"): {
        "survey",
        "survey_autosave",
        "survey_lost_link",
        "survey_region_act",
        "survey_municipality_act",
    },
    ("results", "product"): {
        "appeal_form",
        "appeal_queue",
        "experts_assign",
        "feedback_report",
        "ranking",
        "reconcile",
        "region_report",
        "review_start",
        "submission_finalize",
        "what_if",
        "measure_plan_start",
    },
    ("plans", "product"): {
        "measure_add",
        "measure_edit",
        "measure_plan_approve",
        "measure_plan_return",
        "measure_plan_submit",
        "measure_progress",
        "measure_remove",
    },
}
NOT_A_FORM = {"admin:index": "the admin's own forms are Django's"}


def test_every_post_url_of_the_access_table_is_covered_by_a_fuzzed_form():
    covered = set().union(*COVERS.values())

    missing = post_url_names() - covered - set(NOT_A_FORM)

    assert not missing, f"POST URLs whose fields nobody fuzzes (add the world that shows their form): {sorted(missing)}"


@pytest.mark.parametrize(
    ("scene", "group"),
    [
        ("collecting", "product"),
        ("collecting", "surveys"),
        ("results", "product"),
        ("plans", "product"),
    ],
)
def test_every_field_of_every_form_is_fuzzed(scene, group, world, survey_campaign, as_role, request):
    if scene in ("results", "plans"):
        request.getfixturevalue("finalized")
    _prepare_world(world, survey_campaign, request)
    if scene == "results":
        _results_world(world, survey_campaign)
    if scene == "plans":
        _plans_world(world, survey_campaign)

    fuzzer, covered = _form_fuzz(world, survey_campaign, as_role, scene, group)

    missing = COVERS[(scene, group)] - covered
    assert not missing, f"no form found for {sorted(missing)}"
    fuzzer.check()

"""Every URL pattern × every role × own / other object → the expected status.

A URL pattern without a row here fails the suite: a new view must declare who may see it."""

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import ROLES

LOGGED_IN = set(ROLES) - {"anonymous"}


@dataclass
class Row:
    """`own` and `other` build the URL for an object in the role's scope and for one outside it.
    `ok`: roles that get 200 on their own object; `other_ok`: roles that also see the other one;
    `denied`: roles refused outright (403) whatever the object; any other logged-in role gets `outside`.
    `everyone`: one status for every logged-in role, for pages that are not about scope."""

    own: object
    other: object = None
    ok: set = field(default_factory=lambda: set(LOGGED_IN))
    other_ok: set = field(default_factory=set)
    denied: set = field(default_factory=set)
    other_denied: set | None = None  # refused on the other object too (default: as on the own one)
    outside: int = 404
    everyone: int | None = None
    anonymous: int = 302
    post: int = 405  # a read-only page refuses other methods


def _strangers_notification():
    from django.contrib.auth import get_user_model

    from municipalities.models import Notification

    stranger, _ = get_user_model().objects.get_or_create(username="t-stranger")
    return Notification.objects.create(user=stranger, kind=Notification.Kind.RESULT, title="x", path="/").pk


def _organizers_calendar_feed(w):
    from municipalities.notifications import calendar_feed_issue

    return reverse("calendar_feed", args=[calendar_feed_issue(user=w.users["organizer"]).key])


def plain(name):
    return lambda w: reverse(name)


def _basis_file(w, region=None):
    """A document of the test campaign's basis with a file: federal (no region), or of `region`."""
    from django.core.files.base import ContentFile

    from assessment.models import CampaignDocument

    slug = w.campaign.slug  # an AttributeError before any campaign, as for the other rows' objects
    document = CampaignDocument(campaign=w.campaign, title="Письмо", number="13-293", region=region)
    document.file.save("letter.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return reverse("campaign_basis_file", args=[slug, document.pk])


def _measure_file(w, municipality):
    """A progress report with a file, on a measure of the municipality's plan answering the test campaign."""
    from datetime import date

    from django.core.files.base import ContentFile

    from assessment.models import Measure, MeasurePlan, MeasureProgress

    plan, _ = MeasurePlan.objects.get_or_create(  # no campaign yet: an AttributeError, as for the other rows
        campaign_id=w.campaign.pk, municipality=municipality, defaults={"created_by": w.users["operator"]}
    )
    measure = Measure.objects.create(
        plan=plan, title="Семинар", responsible="Иванова", due_on=date(2030, 1, 1), expected_result="x", indicator="x"
    )
    report = MeasureProgress(measure=measure, status="done", by=w.users["operator"], original_name="отчёт.pdf")
    report.file.save("report.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return reverse("measure_file", args=[report.pk])


ROWS = {
    "home": Row(plain("home")),
    "methodology": Row(plain("methodology")),
    "methodology_version": Row(
        lambda w: reverse("methodology_version", args=["2020"]),
        lambda w: reverse("methodology_version", args=["no-such-version"]),
    ),
    "region_list": Row(
        plain("region_list"),
        ok={"operator", "ministry", "coordinator"},
        denied=LOGGED_IN - {"operator", "ministry", "coordinator"},
    ),
    "region_detail": Row(
        lambda w: reverse("region_detail", args=[w.region.code]),
        lambda w: reverse("region_detail", args=[w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied=LOGGED_IN - {"operator", "ministry", "coordinator"},
    ),
    "municipality_detail": Row(
        lambda w: reverse("municipality_detail", args=[w.municipality.code]),
        lambda w: reverse("municipality_detail", args=[w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy"},
        other_ok={"operator", "ministry"},
    ),
    "profile": Row(plain("profile")),
    "notifications": Row(plain("notifications")),
    # Someone else's notification: 404 for every role (one's own is opened in tests/test_notifications.py).
    "notification_open": Row(lambda w: reverse("notification_open", args=[_strangers_notification()]), everyone=404),
    "notifications_read": Row(plain("notifications_read"), everyone=405, post=302),
    "notification_settings": Row(plain("notification_settings"), post=302),
    # The one-click unsubscribe of e-mails: no login, the signed link is the key (a valid one: tests/test_mail_headers.py).
    "unsubscribe": Row(lambda w: reverse("unsubscribe", args=["no-such-token"]), anonymous=404, everyone=404, post=404),
    "calendar_feed_new": Row(plain("calendar_feed_new"), everyone=405, post=302),
    "calendar_feed_revoke": Row(plain("calendar_feed_revoke"), everyone=405, post=302),
    # A person's calendar feed: the secret address is the key, for calendar apps without a session (revoked or
    # unknown keys, and what the feed holds per role: tests/test_calendar.py).
    "calendar_feed": Row(_organizers_calendar_feed, anonymous=200, everyone=200),
    # Campaigns and data collection.
    "campaign_list": Row(plain("campaign_list")),
    "campaign_create": Row(plain("campaign_create"), ok={"operator"}, denied=LOGGED_IN - {"operator"}, post=200),
    "campaign_detail": Row(
        lambda w: reverse("campaign_detail", args=["test-2026"]),
        lambda w: reverse("campaign_detail", args=["no-such-campaign"]),
        ok=LOGGED_IN - {"nobody"},
    ),
    "campaign_calendar": Row(
        lambda w: reverse("campaign_calendar", args=["test-2026"]),
        lambda w: reverse("campaign_calendar", args=["no-such-campaign"]),
        ok=LOGGED_IN - {"nobody"},
    ),
    "campaign_edit": Row(
        lambda w: reverse("campaign_edit", args=["test-2026"]),
        ok={"operator"},
        denied=LOGGED_IN - {"operator", "nobody"},
        post=200,
    ),
    "campaign_materials": Row(
        lambda w: reverse("campaign_materials", args=["test-2026"]), ok=LOGGED_IN - {"nobody"}, post=200
    ),
    "material_remove": Row(lambda w: reverse("material_remove", args=["test-2026", 1]), everyone=405, post=302),
    "material_file": Row(
        lambda w: reverse("material_file", args=["test-2026", w.campaign.material.pk]), ok=LOGGED_IN - {"nobody"}
    ),
    "campaign_basis": Row(
        lambda w: reverse("campaign_basis", args=["test-2026"]),
        lambda w: reverse("campaign_basis", args=["no-such-campaign"]),
        ok=LOGGED_IN - {"nobody"},
        post=200,
    ),
    "campaign_basis_remove": Row(
        lambda w: reverse("campaign_basis_remove", args=["test-2026", 1]), everyone=405, post=302
    ),
    # A federal letter for everyone who sees the campaign; a region's own order for its people and the national roles.
    "campaign_basis_file": Row(
        _basis_file,
        lambda w: _basis_file(w, region=w.other_region),
        ok=LOGGED_IN - {"nobody"},
        other_ok={"operator", "ministry"},
    ),
    "region_progress": Row(
        lambda w: reverse("region_progress", args=["test-2026", w.region.code]),
        lambda w: reverse("region_progress", args=["test-2026", w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
    ),
    "region_export": Row(
        lambda w: reverse("region_export", args=["test-2026", w.region.code]),
        lambda w: reverse("region_export", args=["test-2026", w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
    ),
    "region_import": Row(
        lambda w: reverse("region_import", args=["test-2026", w.region.code]),
        lambda w: reverse("region_import", args=["test-2026", w.other_region.code]),
        ok={"operator", "coordinator"},
        other_ok={"operator"},
        denied={"organizer", "deputy", "expert", "ministry"},
        post=200,
    ),
    "region_remind": Row(lambda w: reverse("region_remind", args=["test-2026", "43"]), everyone=405, post=302),
    "submission_detail": Row(
        lambda w: reverse("submission_detail", args=["test-2026", w.municipality.code]),
        lambda w: reverse("submission_detail", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
    ),
    "submission_mechanism": Row(
        lambda w: reverse("submission_mechanism", args=["test-2026", w.municipality.code, "1.1"]),
        lambda w: reverse("submission_mechanism", args=["test-2026", w.other_municipality.code, "1.1"]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
        post=200,
    ),
    "attachment_download": Row(
        lambda w: reverse("attachment_download", args=[w.own_attachment.pk]),
        lambda w: reverse("attachment_download", args=[w.other_attachment.pk]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
    ),
    **{
        name: Row(lambda w, name=name, args=args: reverse(name, args=args), everyone=405, post=302)
        for name, args in [
            ("answer_save", ["test-2026", "kirov", "1.1.1"]),
            ("attachment_upload", ["test-2026", "kirov", "1.1.1"]),
            ("analysis_save", ["test-2026", "kirov", "1.1"]),
            ("submission_submit", ["test-2026", "kirov"]),
            ("submission_return", ["test-2026", "kirov"]),
            ("submission_extend", ["test-2026", "kirov"]),
            ("attachment_remove", [1]),
            ("people_resend", [1]),
        ]
    },
    "scoring_page": Row(
        lambda w: reverse("scoring_page", args=["test-2026", w.municipality.code]),
        lambda w: reverse("scoring_page", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
        other_denied=set(),
        post=403,
    ),
    **{
        name: Row(lambda w, name=name: reverse(name, args=["test-2026", "kirov"]), everyone=405, post=302)
        for name in ["prescore_complete", "review_start", "submission_finalize"]
    },
    "campaign_agreement": Row(
        lambda w: reverse("campaign_agreement", args=["test-2026"]),
        ok={"operator"},
        denied=LOGGED_IN - {"operator", "nobody"},
    ),
    "appeal_queue": Row(
        plain("appeal_queue"), ok={"expert", "operator"}, denied=LOGGED_IN - {"expert", "operator"}, post=302
    ),
    "appeal_form": Row(
        lambda w: reverse("appeal_form", args=["test-2026", w.municipality.code]),
        lambda w: reverse("appeal_form", args=["test-2026", w.other_municipality.code]),
        ok={"organizer", "deputy"},
        denied={"operator", "ministry", "coordinator", "expert"},
        other_denied={"operator", "ministry"},
        post=200,
    ),
    "expert_queue": Row(plain("expert_queue"), ok={"expert"}, denied=LOGGED_IN - {"expert"}),
    "campaign_experts": Row(
        lambda w: reverse("campaign_experts", args=["test-2026"]),
        ok={"operator"},
        denied=LOGGED_IN - {"operator", "nobody"},
    ),
    "expert_scoring": Row(
        lambda w: reverse("expert_scoring", args=["test-2026", w.municipality.code]),
        lambda w: reverse("expert_scoring", args=["test-2026", w.other_municipality.code]),
        ok={"expert"},
        post=200,
    ),
    **{
        name: Row(lambda w, name=name: reverse(name, args=["test-2026"]), everyone=405, post=302)
        for name in ["experts_assign", "experts_auto", "reconcile"]
    },
    "expert_complete": Row(lambda w: reverse("expert_complete", args=["test-2026", "kirov"]), everyone=405, post=302),
    "people": Row(
        plain("people"), ok={"operator", "coordinator"}, denied=LOGGED_IN - {"operator", "coordinator"}, post=200
    ),
    "invitation_accept": Row(
        lambda w: reverse("invitation_accept", args=["no-such-token"]), anonymous=404, everyone=404, post=404
    ),
    "password_change": Row(plain("password_change"), post=200),
    "password_change_done": Row(plain("password_change_done")),
    # School surveys: respondents (no login; the token is the key) and the people who run the survey.
    "survey": Row(lambda w: reverse("survey", args=["x" * 43]), anonymous=404, everyone=404, post=404),
    "survey_autosave": Row(lambda w: reverse("survey_autosave", args=["x" * 43]), anonymous=405, everyone=405),
    "survey_done": Row(plain("survey_done"), anonymous=200, everyone=200),
    "survey_lost_link": Row(plain("survey_lost_link"), anonymous=200, everyone=200, post=400),
    "survey_overview": Row(lambda w: reverse("survey_overview", args=["test-2026"]), ok=LOGGED_IN - {"nobody"}),
    "survey_questionnaire": Row(
        lambda w: reverse("survey_questionnaire", args=["test-2026", "director"]),
        lambda w: reverse("survey_questionnaire", args=["test-2026", "pupil"]),
        ok=LOGGED_IN - {"nobody"},
    ),
    "survey_region": Row(
        lambda w: reverse("survey_region", args=["test-2026", w.region.code]),
        lambda w: reverse("survey_region", args=["test-2026", w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
    ),
    "survey_region_evidence_export": Row(
        lambda w: reverse("survey_region_evidence_export", args=["test-2026", w.region.code]),
        lambda w: reverse("survey_region_evidence_export", args=["test-2026", w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
    ),
    "survey_region_links": Row(
        lambda w: reverse("survey_region_links", args=["test-2026", w.region.code, "xlsx"]),
        lambda w: reverse("survey_region_links", args=["test-2026", w.other_region.code, "csv"]),
        ok={"operator", "coordinator"},
        other_ok={"operator"},
        denied={"organizer", "deputy", "expert", "ministry"},
    ),
    "survey_municipality": Row(
        lambda w: reverse("survey_municipality", args=["test-2026", w.municipality.code]),
        lambda w: reverse("survey_municipality", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy"},
        other_ok={"operator", "ministry"},
    ),
    "survey_municipality_links": Row(
        lambda w: reverse("survey_municipality_links", args=["test-2026", w.municipality.code, "csv"]),
        lambda w: reverse("survey_municipality_links", args=["test-2026", w.other_municipality.code, "xlsx"]),
        ok={"operator", "coordinator"},
        other_ok={"operator"},
        # The assessed never hold their schools' links (they open the municipality, so it is a 403, not a 404).
        denied={"ministry", "organizer", "deputy"},
        other_denied={"ministry"},
    ),
    "survey_school_sheet": Row(
        lambda w: reverse("survey_school_sheet", args=["test-2026", w.school.pk]),
        lambda w: reverse("survey_school_sheet", args=["test-2026", w.other_school.pk]),
        ok={"operator", "coordinator"},
        other_ok={"operator"},
        denied={"ministry", "organizer", "deputy"},
        other_denied={"ministry"},
    ),
    "survey_evidence": Row(
        lambda w: reverse("survey_evidence", args=["test-2026", w.municipality.code]),
        lambda w: reverse("survey_evidence", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
    ),
    "survey_evidence_export": Row(
        lambda w: reverse("survey_evidence_export", args=["test-2026", w.municipality.code]),
        lambda w: reverse("survey_evidence_export", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},
        other_ok={"operator", "ministry"},
    ),
    **{
        name: Row(lambda w, name=name, args=args: reverse(name, args=args), everyone=405, post=302)
        for name, args in [
            ("survey_region_act", ["test-2026", "43"]),
            ("survey_municipality_act", ["test-2026", "kirov"]),
        ]
    },
    # Results and reports (the test campaign's results are published: its results stage is running).
    "ranking": Row(
        lambda w: reverse("ranking", args=["test-2026"]), lambda w: reverse("ranking", args=["no-such-campaign"])
    ),
    "ranking_export": Row(
        lambda w: reverse("ranking_export", args=["test-2026", "xlsx"]),
        lambda w: reverse("ranking_export", args=["test-2026", "exe"]),
    ),
    "region_ranking": Row(lambda w: reverse("region_ranking", args=["test-2026"])),
    "ministry_dashboard": Row(
        lambda w: reverse("ministry_dashboard", args=["test-2026"]),
        ok={"operator", "ministry"},
        denied=LOGGED_IN - {"operator", "ministry"},
    ),
    "scorecard": Row(
        lambda w: reverse("scorecard", args=["test-2026", w.municipality.code]),
        lambda w: reverse("scorecard", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
    ),
    "what_if": Row(
        lambda w: reverse("what_if", args=["test-2026", w.municipality.code]),
        lambda w: reverse("what_if", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},
        other_ok={"operator", "ministry"},
    ),
    "report_status": Row(
        lambda w: reverse("report_status", args=[w.own_job.pk]),
        lambda w: reverse("report_status", args=[w.other_job.pk]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
    ),
    "report_download": Row(
        lambda w: reverse("report_download", args=[w.own_job.pk]),
        lambda w: reverse("report_download", args=[w.other_job.pk]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
    ),
    **{
        name: Row(lambda w, name=name, args=args: reverse(name, args=args), everyone=405, post=302)
        for name, args in [
            ("region_report", ["test-2026", "43"]),
            ("feedback_report", ["test-2026", "kirov"]),
        ]
    },
    # Plans of measures answering the results (assessment/measure_views.py): seen by whoever sees the form.
    "measure_plan": Row(
        lambda w: reverse("measure_plan", args=["test-2026", w.municipality.code]),
        lambda w: reverse("measure_plan", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
    ),
    # The region's other municipality: a plan made for the organizer's own would hide the form that starts one from
    # the pages tests/test_fuzz_inputs.py crawls (tests/test_measures.py downloads the organizer's own file).
    "measure_file": Row(
        lambda w: _measure_file(w, w.sibling),
        lambda w: _measure_file(w, w.other_municipality),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
    ),
    "region_plans": Row(
        lambda w: reverse("region_plans", args=["test-2026", w.region.code]),
        lambda w: reverse("region_plans", args=["test-2026", w.other_region.code]),
        ok={"operator", "ministry", "coordinator"},
        other_ok={"operator", "ministry"},
        denied={"organizer", "deputy", "expert"},
    ),
    "national_plans": Row(
        lambda w: reverse("national_plans", args=["test-2026"]),
        lambda w: reverse("national_plans", args=["no-such-campaign"]),
        ok={"operator", "ministry"},
        denied=LOGGED_IN - {"operator", "ministry"},
    ),
    **{
        name: Row(lambda w, name=name, args=args: reverse(name, args=args), everyone=405, post=302)
        for name, args in [
            ("measure_plan_start", ["test-2026", "kirov"]),
            ("measure_plan_submit", ["test-2026", "kirov"]),
            ("measure_plan_approve", ["test-2026", "kirov"]),
            ("measure_plan_return", ["test-2026", "kirov"]),
            ("measure_add", ["test-2026", "kirov"]),
            ("measure_edit", ["test-2026", "kirov", 1]),
            ("measure_remove", ["test-2026", "kirov", 1]),
            ("measure_progress", ["test-2026", "kirov", 1]),
        ]
    },
    # The JSON API: the docs and the schema are public; data needs a login (401 without), and scope like the pages.
    "api-schema": Row(plain("api-schema"), anonymous=200, everyone=200),
    "api-response-rates": Row(
        lambda w: reverse("api-response-rates", args=["test-2026"]),
        lambda w: reverse("api-response-rates", args=["no-such-campaign"]),
        ok=LOGGED_IN - {"nobody"},
        anonymous=401,
    ),
    "api-docs": Row(plain("api-docs"), anonymous=200, everyone=200),
    "api-campaigns": Row(plain("api-campaigns"), anonymous=401),
    "api-ranking": Row(
        lambda w: reverse("api-ranking", args=["test-2026"]),
        lambda w: reverse("api-ranking", args=["no-such-campaign"]),
        anonymous=401,
    ),
    "api-municipality": Row(
        lambda w: reverse("api-municipality", args=["test-2026", w.municipality.code]),
        lambda w: reverse("api-municipality", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # the expert is assigned
        other_ok={"operator", "ministry"},
        anonymous=401,
    ),
    "api-measures": Row(
        lambda w: reverse("api-measures", args=["test-2026", w.municipality.code]),
        lambda w: reverse("api-measures", args=["test-2026", w.other_municipality.code]),
        ok={"operator", "ministry", "coordinator", "organizer", "deputy", "expert"},  # scoped like the card
        other_ok={"operator", "ministry"},
        anonymous=401,
    ),
    "api_token_new": Row(plain("api_token_new"), everyone=405, post=302),
    "api_token_revoke": Row(lambda w: reverse("api_token_revoke", args=[1]), everyone=405, post=302),
    # Pages for people who are not logged in.
    # Pages for people who are not logged in (yet), or for everyone.
    "login": Row(plain("login"), anonymous=200, everyone=302, post=200),
    "logout": Row(plain("logout"), anonymous=405, everyone=405, post=302),
    "password_reset": Row(plain("password_reset"), anonymous=200, post=200),
    "password_reset_done": Row(plain("password_reset_done"), anonymous=200),
    "password_reset_confirm": Row(
        lambda w: reverse("password_reset_confirm", args=["MQ", "bad-token"]), anonymous=200, post=200
    ),
    "password_reset_complete": Row(plain("password_reset_complete"), anonymous=200),
    "set_language": Row(plain("set_language"), anonymous=302, everyone=302, post=302),
    "javascript-catalog": Row(plain("javascript-catalog"), anonymous=200, post=405),
}

# The admin checks is_staff itself on every one of its pages; its index stands for them all.
ADMIN_ROW = Row(lambda w: reverse("admin:index"), ok={"operator"}, outside=302, post=200)


def all_pattern_names():
    names = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(filter(None, [namespace, p.namespace]))
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern):
                names.add(":".join(filter(None, [namespace, p.name or f"<unnamed {p.pattern}>"])))

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_pattern_has_an_access_expectation():
    missing = {n for n in all_pattern_names() if not n.startswith("admin:") and n not in ROWS}

    assert not missing, f"URL patterns without an access row in tests/test_url_access.py: {sorted(missing)}"


def expected(row, role, which):
    if role == "anonymous":
        return row.anonymous
    if row.everyone is not None:
        return row.everyone
    denied = row.denied if which == "own" or row.other_denied is None else row.other_denied
    if role in denied:
        return 403
    allowed = row.ok if which == "own" else row.other_ok
    return 200 if role in allowed else row.outside


CASES = [
    (name, role, which)
    for name, row in [*ROWS.items(), ("admin:index", ADMIN_ROW)]
    for role in ROLES
    for which in (("own", "other") if row.other else ("own",))
]


# Finalized results and report files cost a fifth of a second per case: only the rows that need them get them.
NEEDS_RESULTS = {"scorecard", "what_if", "api-municipality", "measure_plan", "api-measures"}
NEEDS_JOBS = {"report_status", "report_download"}


def _results_for(name, world, campaign, request):
    if name in NEEDS_RESULTS:
        request.getfixturevalue("finalized")
    world.own_job = world.other_job = None
    if name in NEEDS_JOBS:
        world.own_job, world.other_job = _report_jobs(world, campaign)


def _report_jobs(world, campaign):
    from django.core.files.base import ContentFile

    from reports.models import ReportJob

    jobs = []
    for region in (world.region, world.other_region):
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.REGION_PDF, campaign=campaign, region=region, results_key="k", status="done"
        )
        job.file.save("r.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
        jobs.append(job)
    return jobs


@pytest.mark.parametrize(("name", "role", "which"), CASES)
def test_url_access(name, role, which, world, survey_campaign, as_role, request):
    campaign = survey_campaign
    _results_for(name, world, campaign, request)
    row = ADMIN_ROW if name == "admin:index" else ROWS[name]
    if row is ADMIN_ROW and role == "operator":
        world.users["operator"].is_staff = True
        world.users["operator"].save()
    world.campaign = campaign
    from assessment.models import ReviewAssignment

    ReviewAssignment.objects.create(
        submission=campaign.submissions.get(municipality=world.municipality),
        expert=world.users["expert"],
        assigned_by=world.users["operator"],
    )
    world.own_attachment, world.other_attachment = (
        s.answers.get().attachments.get()
        for s in campaign.submissions.exclude(municipality=world.sibling)
        .order_by("municipality__region__code")
        .reverse()
    )
    client = as_role(world, role)
    url = (row.own if which == "own" else row.other)(world)

    response = client.get(url)

    assert response.status_code == expected(row, role, which), url


@pytest.mark.parametrize("name", [n for n, row in ROWS.items() if row.post == 405 and row.everyone is None])
def test_read_only_pages_refuse_post(name, world, survey_campaign, as_role, request):
    campaign = survey_campaign
    _results_for(name, world, campaign, request)
    world.campaign = campaign
    world.own_attachment = world.other_attachment = (
        campaign.submissions.filter(answers__isnull=False).first().answers.get().attachments.get()
    )
    client = as_role(world, "operator")

    response = client.post(ROWS[name].own(world))

    assert response.status_code == 405

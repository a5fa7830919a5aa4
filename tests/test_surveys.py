"""School surveys: questionnaires, invitations, answering, anonymity, the k ≥ 3 rule, rates and exports."""

import io
import random
import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment.models import CampaignStage, Stage
from fixtures.demo_surveys import _answer_set
from municipalities.models import Municipality
from surveys import answers as A
from surveys import services, stats
from surveys.models import (
    MIN_GROUP,
    Draft,
    Invitation,
    Question,
    QuestionnaireLocked,
    Respondent,
    Response,
    ResponseAnswer,
)
from tests.factories import SchoolFactory


def _form(questions, answers):
    """The POST fields of a whole answer set."""
    data = {}
    for code, value in answers.items():
        data[f"q-{code}"] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return data


def _complete(campaign, role, seed=1):
    questions = services.questions_of(campaign, role)
    return questions, _answer_set(questions, random.Random(seed), 0.7)


@pytest.fixture
def invitation(survey_campaign, world):
    return Invitation.objects.get(campaign=survey_campaign, school=world.school, role=Respondent.DIRECTOR)


def _submit(client, invitation, answers, **extra):
    return client.post(
        reverse("survey", args=[invitation.token]),
        {"page": "1", "action": "submit", **_form(None, answers), **extra},
    )


# --- questionnaires ------------------------------------------------------------------------------------------


def test_the_questionnaires_cover_every_mechanism_for_every_role(questionnaires, methodology):
    mechanisms = set(methodology.mechanisms.values_list("code", flat=True))

    for role, questionnaire in questionnaires.items():
        questions = list(questionnaire.questions.select_related("mechanism"))
        kinds = {q.kind for q in questions}
        assert 20 <= len(questions) <= 35, role
        assert {q.mechanism.code for q in questions if q.mechanism} == mechanisms, role
        assert kinds == {"single", "multiple", "scale", "yesno", "number", "text"}, role
        assert any(q.depends_on_id for q in questions), role
        assert all(not A.question_errors(q) for q in questions), role


def test_importing_the_questionnaires_again_changes_nothing(questionnaires, methodology):
    from django.conf import settings

    created = services.questionnaires_import_file(
        path=settings.BASE_DIR / "fixtures" / "questionnaires_2020.json", methodology=methodology
    )

    assert created == 0
    assert Question.objects.filter(questionnaire__methodology=methodology).count() == sum(
        q.questions.count() for q in questionnaires.values()
    )


def test_a_questionnaire_is_locked_once_the_survey_opens(questionnaires, campaign):
    question = questionnaires["teacher"].questions.first()
    question.text = "Изменённый вопрос"

    with pytest.raises(QuestionnaireLocked):
        question.save()


def test_a_questionnaire_is_editable_before_the_survey_opens(questionnaires, campaign):
    CampaignStage.objects.filter(campaign=campaign, stage=Stage.SURVEYS).update(
        starts_on=timezone.localdate() + timedelta(days=3)
    )
    question = questionnaires["teacher"].questions.first()
    question.text = "Уточнённый вопрос"

    question.save()

    assert Question.objects.get(pk=question.pk).text == "Уточнённый вопрос"


def test_a_new_methodology_version_carries_the_questionnaires(questionnaires, methodology):
    from assessment.services import methodology_new_version

    copy = methodology_new_version(methodology=methodology)

    assert copy.questionnaires.count() == 3
    dependent = Question.objects.filter(questionnaire__methodology=copy, depends_on__isnull=False).first()
    assert dependent.depends_on.questionnaire.methodology == copy


# --- invitations ---------------------------------------------------------------------------------------------


def test_every_school_gets_three_invitations_with_unguessable_tokens(survey_campaign, world):
    invitations = list(Invitation.objects.filter(campaign=survey_campaign))
    schools = {i.school_id for i in invitations}

    assert len(invitations) == 3 * len(schools)
    assert {world.school.pk, world.other_school.pk} <= schools
    assert len({i.token for i in invitations}) == len(invitations)
    assert all(len(i.token) >= 43 for i in invitations)  # 32 random bytes: 256 bits


def test_preparing_the_invitations_again_keeps_the_tokens_and_adds_new_schools(survey_campaign, world):
    before = dict(Invitation.objects.values_list("pk", "token"))
    SchoolFactory(municipality=world.municipality)

    created = services.invitations_create(campaign=survey_campaign)

    assert created == 3
    assert all(Invitation.objects.get(pk=pk).token == token for pk, token in before.items())


def test_links_are_exported_as_xlsx_and_csv_with_formula_injection_neutralised(survey_campaign, world, client):
    world.school.name = '=HYPERLINK("http://evil.example","Школа")'
    world.school.save()
    client.force_login(world.users["coordinator"])

    xlsx = client.get(reverse("survey_region_links", args=[survey_campaign.slug, "43", "xlsx"]))
    csv = client.get(reverse("survey_region_links", args=[survey_campaign.slug, "43", "csv"]))

    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("Муниципалитет", "Школа", "Эл. почта школы", "Респондент", "Ссылка")
    school_rows = [r for r in rows[1:] if "HYPERLINK" in r[1]]
    assert len(school_rows) == 3 and all(r[1].startswith("'=") for r in school_rows)
    assert all(r[4].startswith("http") and "/s/" in r[4] for r in rows[1:])
    text = csv.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    assert Invitation.objects.get(school=world.school, role="director").token in text


def test_unknown_export_format_is_a_404(survey_campaign, client, world):
    client.force_login(world.users["coordinator"])

    response = client.get(reverse("survey_region_links", args=[survey_campaign.slug, "43", "pdf"]))

    assert response.status_code == 404


def test_links_are_e_mailed_to_schools_with_an_address(
    survey_campaign, world, client, django_capture_on_commit_callbacks
):
    world.school.email = "school@example.org"
    world.school.save()
    client.force_login(world.users["coordinator"])
    url = reverse("survey_municipality_act", args=[survey_campaign.slug, "kirov"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "send"})
        again = client.post(url, {"action": "send"}, follow=True)

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["school@example.org"]]  # once a day per school
    assert "уже отправлены сегодня" in again.content.decode()
    body = mail.outbox[0].body
    assert all(i.token in body for i in Invitation.objects.filter(school=world.school))
    assert Invitation.objects.filter(school=world.school, emailed_at__isnull=False).count() == 3


def test_reminders_go_once_a_day_to_schools_that_have_not_answered(
    survey_campaign, world, django_capture_on_commit_callbacks
):
    world.school.email = "school@example.org"
    world.school.save()
    municipalities = [world.municipality]

    with django_capture_on_commit_callbacks(execute=True):
        first = services.reminders_send(campaign=survey_campaign, municipalities=municipalities)
        second = services.reminders_send(campaign=survey_campaign, municipalities=municipalities)

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1


def test_the_daily_command_reminds_schools_during_the_survey(
    survey_campaign, world, django_capture_on_commit_callbacks
):
    world.school.email = "school@example.org"
    world.school.save()
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=out)

    assert "школам 1" in out.getvalue()


# --- answering -----------------------------------------------------------------------------------------------


def test_the_intro_names_the_school_and_the_sections(invitation, client):
    response = client.get(reverse("survey", args=[invitation.token]))

    assert response.status_code == 200
    assert invitation.school.name in response.content.decode()
    assert Invitation.objects.get(pk=invitation.pk).opened


def test_a_page_is_saved_and_the_survey_resumes_there(invitation, client):
    questions = services.questions_of(invitation.campaign, invitation.role)
    first = A.pages(questions)[0].questions
    answers = {q.code: A.allowed_values(q)[0] for q in first if q.kind in ("single", "yesno", "scale")}

    response = client.post(
        reverse("survey", args=[invitation.token]), {"page": "1", "action": "next", **_form(None, answers)}
    )
    again = client.get(reverse("survey", args=[invitation.token]))

    assert response.status_code == 302 and response["Location"].endswith("?p=2")
    assert Draft.objects.get(invitation=invitation).answers == answers
    assert again.context["number"] == 2


def test_a_whole_questionnaire_is_submitted_once(invitation, client):
    questions, answers = _complete(invitation.campaign, invitation.role)

    response = _submit(client, invitation, answers)

    assert response.status_code == 302 and response["Location"] == reverse("survey_done")
    stored = Response.objects.get()
    assert (stored.role, stored.municipality, stored.release) == ("director", invitation.school.municipality, None)
    # Waiting for its publication step, the answers are kept in the response; rows come with the step.
    assert len(stored.pending) == sum(len(v) if isinstance(v, list) else 1 for v in answers.values())
    assert not stored.answers.exists()
    assert Invitation.objects.get(pk=invitation.pk).completed
    assert not Draft.objects.exists()


def test_a_second_submission_is_refused_and_writes_nothing(invitation, client):
    _questions, answers = _complete(invitation.campaign, invitation.role)
    _submit(client, invitation, answers)

    second = _submit(client, invitation, answers)
    reopened = client.get(reverse("survey", args=[invitation.token]))

    assert second.status_code == 409
    assert Response.objects.count() == 1
    assert reopened.status_code == 404


def test_a_submission_racing_a_stale_copy_of_the_invitation_is_refused(invitation):
    questions, answers = _complete(invitation.campaign, invitation.role)
    stale = Invitation.objects.get(pk=invitation.pk)
    form = _querydict(_form(None, answers))
    services.response_submit(invitation=invitation, questions=questions, submitted=form, page_questions=[])

    with pytest.raises(services.AlreadySubmitted):
        services.response_submit(invitation=stale, questions=questions, submitted=form, page_questions=[])

    assert Response.objects.count() == 1


def _querydict(fields):
    from django.http import QueryDict

    qd = QueryDict(mutable=True)
    for key, values in fields.items():
        qd.setlist(key, values)
    return qd


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_submissions_sent_at_the_same_moment_store_one_response(world, methodology):
    from django.conf import settings

    from assessment.models import Campaign
    from assessment.services import campaign_save

    services.questionnaires_import_file(
        path=settings.BASE_DIR / "fixtures" / "questionnaires_2020.json", methodology=methodology
    )
    today = timezone.localdate()
    campaign = campaign_save(
        campaign=Campaign(slug="race", title="Гонка", year=2026, methodology=methodology),
        stages={s: (today - timedelta(days=1), today + timedelta(days=1)) for s in Stage},
        municipalities=[world.municipality],
        by=world.users["operator"],
    )
    services.invitations_create(campaign=campaign)
    invitation = Invitation.objects.get(school=world.school, role="teacher")
    _questions, answers = _complete(campaign, "teacher")
    barrier = threading.Barrier(4)
    statuses = []

    def submit():
        client = Client()
        barrier.wait()
        statuses.append(_submit(client, invitation, answers).status_code)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [302, 409, 409, 409]
    assert Response.objects.filter(campaign=campaign).count() == 1


def test_missing_required_answers_are_named_and_nothing_is_submitted(invitation, client):
    questions, answers = _complete(invitation.campaign, invitation.role)
    required = next(q for q in questions if q.required and q.code in answers and not q.dependents.exists())
    del answers[required.code]

    response = _submit(client, invitation, answers)

    assert response.status_code == 400
    assert required.text in response.content.decode()
    assert [q.code for q, _page in response.context["missing"]] == [required.code]
    assert not Response.objects.exists()
    assert not Invitation.objects.get(pk=invitation.pk).completed


def test_a_value_not_among_the_choices_is_refused_and_nothing_is_saved(invitation, client):
    questions = services.questions_of(invitation.campaign, invitation.role)
    single = next(q for q in A.pages(questions)[0].questions if q.kind == "single")
    other = next(q for q in A.pages(questions)[0].questions if q.code != single.code and q.kind in ("single", "yesno"))

    response = client.post(
        reverse("survey", args=[invitation.token]),
        {"page": "1", "action": "next", f"q-{single.code}": "forged", f"q-{other.code}": A.allowed_values(other)[0]},
    )

    assert response.status_code == 400
    assert "Выберите один из предложенных вариантов" in response.content.decode()
    assert not Draft.objects.exists()


def test_over_long_text_is_refused_with_its_length(invitation, client):
    questions = services.questions_of(invitation.campaign, invitation.role)
    text = next(q for q in questions if q.kind == "text")
    page = next(p for p in A.pages(questions) if text in p.questions)

    response = client.post(
        reverse("survey", args=[invitation.token]),
        {"page": str(page.number), "action": "save", f"q-{text.code}": "я" * (text.max_length + 1)},
    )

    assert response.status_code == 400
    assert str(text.max_length + 1) in response.content.decode()
    assert not Draft.objects.exists()


def test_html_in_a_text_answer_is_shown_escaped(invitation, client):
    questions = services.questions_of(invitation.campaign, invitation.role)
    text = next(q for q in questions if q.kind == "text")
    page = next(p for p in A.pages(questions) if text in p.questions)
    url = reverse("survey", args=[invitation.token])
    client.post(url, {"page": str(page.number), "action": "save", f"q-{text.code}": "<script>alert(1)</script>"})

    response = client.get(f"{url}?p={page.number}")

    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


def test_autosave_keeps_the_page_and_reports_progress(invitation, client):
    questions = services.questions_of(invitation.campaign, invitation.role)
    q = A.pages(questions)[1].questions[0]

    response = client.post(
        reverse("survey_autosave", args=[invitation.token]), {"page": "2", f"q-{q.code}": A.allowed_values(q)[0]}
    )
    bad = client.post(reverse("survey_autosave", args=[invitation.token]), {"page": "2", f"q-{q.code}": "nope"})

    assert response.status_code == 200 and response.json()["answered"] == 1
    assert bad.status_code == 400 and q.code in bad.json()["errors"]
    assert Draft.objects.get(invitation=invitation).answers == {q.code: A.allowed_values(q)[0]}


def test_unknown_used_and_expired_links_get_the_same_neutral_page(survey_campaign, world, client):
    used, expired, _third = Invitation.objects.filter(school=world.school).order_by("role")
    _questions, answers = _complete(survey_campaign, used.role)
    _submit(client, used, answers)
    other_campaign_stage = CampaignStage.objects.get(campaign=survey_campaign, stage=Stage.SURVEYS)

    unknown = client.get(reverse("survey", args=["A" * 43]))
    malformed = client.get(reverse("survey", args=["short..token"]))
    used_page = client.get(reverse("survey", args=[used.token]))
    other_campaign_stage.ends_on = timezone.localdate() - timedelta(days=1)
    other_campaign_stage.starts_on = timezone.localdate() - timedelta(days=10)
    other_campaign_stage.save()
    expired_page = client.get(reverse("survey", args=[expired.token]))

    # The same page, but for the per-request CSRF token and the address echoed in the language switch.
    bodies = {
        re.sub(rb'(name="csrfmiddlewaretoken" value|name="next" type="hidden" value)="[^"]*"', b"", r.content)
        for r in (unknown, malformed, used_page, expired_page)
    }
    assert {r.status_code for r in (unknown, malformed, used_page, expired_page)} == {404}
    assert len(bodies) == 1


def test_a_survey_that_has_not_started_says_when_it_opens(invitation, client):
    start = timezone.localdate() + timedelta(days=5)
    CampaignStage.objects.filter(campaign=invitation.campaign, stage=Stage.SURVEYS).update(starts_on=start)

    response = client.get(reverse("survey", args=[invitation.token]))

    assert response.status_code == 200
    assert "ещё не начался" in response.content.decode()


def test_a_forged_csrf_token_is_refused_with_a_clear_page(invitation):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("survey", args=[invitation.token]))

    response = client.post(
        reverse("survey", args=[invitation.token]), {"page": "1", "action": "submit", "csrfmiddlewaretoken": "forged"}
    )

    assert response.status_code == 403
    assert "Срок действия формы истёк" in response.content.decode()
    assert not Response.objects.exists()


# --- anonymity -----------------------------------------------------------------------------------------------


def test_no_path_leads_from_a_response_back_to_its_token(invitation, client):
    _questions, answers = _complete(invitation.campaign, invitation.role)
    _submit(client, invitation, answers)

    tied_models = {Invitation, Draft}
    for model in (Response, ResponseAnswer):
        for f in model._meta.get_fields():
            assert getattr(f, "related_model", None) not in tied_models, f"{model.__name__}.{f.name}"
    response = Response.objects.get()
    stored = [str(getattr(response, f.attname)) for f in Response._meta.concrete_fields]
    stored += [str(v) for row in ResponseAnswer.objects.values_list() for v in row]
    assert not any(invitation.token in value for value in stored)
    # Neither the school nor a time or day to match against the invitation, which keeps flags only.
    names = {f.name for f in Response._meta.get_fields()}
    assert not names & {"school", "submitted_on", "submitted_at", "created_at"}
    assert not [f.name for f in Invitation._meta.get_fields() if f.name in ("completed_at", "opened_at")]
    assert not Draft.objects.filter(invitation=invitation).exists()


# --- statistics ----------------------------------------------------------------------------------------------


def _responses(campaign, schools, role, answers_for):
    for school in schools:
        invitation = Invitation.objects.get(campaign=campaign, school=school, role=role)
        questions = services.questions_of(campaign, role)
        services.response_submit(
            invitation=invitation,
            questions=questions,
            submitted=_querydict(_form(None, answers_for(questions))),
            page_questions=[],
        )


def test_no_figure_about_answers_is_shown_for_fewer_than_three_responses(survey_campaign, world):
    schools = [world.school] + [SchoolFactory(municipality=world.municipality) for _ in range(2)]
    services.invitations_create(campaign=survey_campaign)
    rng = random.Random(3)
    _responses(survey_campaign, schools[:2], "teacher", lambda qs: _answer_set(qs, rng, 0.9))

    two = stats.survey_evidence(survey_campaign, [world.municipality])[world.municipality.pk]
    _responses(survey_campaign, schools[2:], "teacher", lambda qs: _answer_set(qs, rng, 0.9))
    three = stats.survey_evidence(survey_campaign, [world.municipality])[world.municipality.pk]

    assert MIN_GROUP == 3
    two_stats = [s for m in two.mechanisms for s in m.questions if s.question.questionnaire.role == "teacher"]
    assert all(not s.shown and s.distribution == [] and s.positive_share is None for s in two_stats)
    assert all(m.positive_share is None for m in two.mechanisms)
    shown = [s for m in three.mechanisms for s in m.questions if s.shown]
    assert shown and all(s.answered >= 3 for s in shown)
    assert any(m.positive_share is not None for m in three.mechanisms)


def test_the_evidence_page_and_export_hide_small_groups(survey_campaign, world, client):
    rng = random.Random(5)
    _responses(survey_campaign, [world.school], "director", lambda qs: _answer_set(qs, rng, 0.9))
    client.force_login(world.users["coordinator"])

    page = client.get(reverse("survey_evidence", args=[survey_campaign.slug, "kirov"]))
    export = client.get(reverse("survey_evidence_export", args=[survey_campaign.slug, "kirov"]))

    evidence = page.context["evidence"]
    assert (evidence.response_count, evidence.waiting) == (0, 1)
    assert "ждёт следующей ступени публикации" in page.content.decode()
    rows = list(load_workbook(io.BytesIO(export.content))["По вопросам"].iter_rows(min_row=2, values_only=True))
    assert rows and all(r[5] is None and r[6] is None for r in rows)


def test_response_rates_count_by_role_municipality_and_region(survey_campaign, world):
    rng = random.Random(9)
    _responses(survey_campaign, [world.school], "director", lambda qs: _answer_set(qs, rng, 0.5))

    regions = stats.response_rates(survey_campaign, Municipality.objects.all())

    kirov_region = next(r for r in regions if r["code"] == "43")
    kirov = next(m for m in kirov_region["municipalities"] if m["code"] == "kirov")
    assert kirov["by_role"]["director"] == {"invited": 1, "responded": 1, "rate": 1.0}
    assert (kirov["invited"], kirov["responded"], kirov["rate"]) == (3, 1, 0.3333)
    assert kirov_region["responded"] == 1 and kirov_region["schools"] == 1


def test_the_api_gives_the_rates_in_the_viewers_scope(survey_campaign, world, client):
    client.force_login(world.users["organizer"])

    body = client.get(reverse("api-response-rates", args=[survey_campaign.slug])).json()

    assert body["campaign"] == survey_campaign.slug
    assert [r["code"] for r in body["regions"]] == ["43"]
    assert [m["code"] for m in body["regions"][0]["municipalities"]] == ["kirov"]
    row = body["regions"][0]
    assert set(row) == {"code", "name", "schools", "invited", "responded", "rate", "by_role", "municipalities"}
    assert set(row["by_role"]) == {"director", "deputy", "teacher"}


def test_the_api_schema_documents_the_response_rates(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()

    assert "/api/v1/campaigns/{slug}/response-rates/" in schema


def test_rates_and_the_region_page_take_a_fixed_number_of_queries(
    survey_campaign, world, client, django_assert_max_num_queries
):
    from tests.factories import MunicipalityFactory

    client.force_login(world.users["coordinator"])
    url = reverse("survey_region", args=[survey_campaign.slug, "43"])
    api = reverse("api-response-rates", args=[survey_campaign.slug])
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
        client.get(api)
    for i in range(6):
        m = MunicipalityFactory(region=world.region, code=f"extra-{i}")
        survey_campaign.participations.create(municipality=m)
        for _ in range(3):
            SchoolFactory(municipality=m)
    services.invitations_create(campaign=survey_campaign)

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
        client.get(api)


def test_the_scoring_page_shows_the_survey_evidence_beside_the_criteria(survey_campaign, world, client):
    rng = random.Random(11)
    schools = [world.school] + [SchoolFactory(municipality=world.municipality) for _ in range(2)]
    services.invitations_create(campaign=survey_campaign)
    _responses(survey_campaign, schools, "director", lambda qs: _answer_set(qs, rng, 1.0))
    client.force_login(world.users["coordinator"])

    page = client.get(reverse("scoring_page", args=[survey_campaign.slug, "kirov"])).content.decode()

    assert page.count("survey-evidence") == 9
    assert "положительных ответов" in page


def test_the_coordinators_dashboard_shows_the_live_response_rate(survey_campaign, world, client):
    client.force_login(world.users["coordinator"])

    page = client.get(reverse("home")).content.decode()

    assert reverse("survey_region", args=[survey_campaign.slug, "43"]) in page
    assert "Опрос школ" in page


def test_a_submission_is_a_fixed_few_statements_prepared_on_postgresql(invitation, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _questions, answers = _complete(invitation.campaign, invitation.role)
    client.get(reverse("survey", args=[invitation.token]))  # questions cached, as after the first page

    with CaptureQueriesContext(connection) as captured:
        response = _submit(client, invitation, answers)

    statements = [q["sql"] for q in captured.captured_queries]
    # Beside the transaction (a savepoint inside the test's) and the first PREPARE of each statement: the
    # invitation, completed, the response, the draft gone, the group's lock (PostgreSQL) and its waiting
    # responses; nothing per question or per answer.
    work = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "PREPARE"))]
    assert response.status_code == 302
    assert len(work) <= 6, work
    if connection.vendor == "postgresql":
        named = {s.split(" ")[1] for s in statements if s.startswith(("EXECUTE", "PREPARE"))}
        assert {
            "survey_invitation_by_token",
            "survey_invitation_complete",
            "survey_response_insert",
            "survey_draft_delete",
        } <= named
        # The group's waiting responses are read by a range of the index, planned for the table as it is now.
        assert not any("survey_group_waiting" in s for s in statements)

import datetime
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from assessment import collection
from assessment.collection import CollectionError, ConflictError
from assessment.models import Answer, Attachment, Criterion, EvidenceLink, Stage, StatusChange, Submission
from assessment.workflow import TransitionError
from municipalities.access import access_for
from tests.factories import MunicipalityFactory


@pytest.fixture
def submission(campaign, world):
    return campaign.submissions.get(municipality=world.municipality)


def criterion(campaign, code):
    return Criterion.objects.get(mechanism__methodology=campaign.methodology, code=code)


def fill_everything(campaign, submission, user):
    for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        collection.answer_save(
            submission=submission,
            criterion=c,
            by=user,
            description=f"Приказ по {c.code}",
            links_text=f"https://uo.example.ru/{c.code}.pdf",
            complete=True,
        )
    for m in campaign.methodology.mechanisms.all():
        collection.analysis_save(
            submission=submission, mechanism=m, by=user, conclusions="Выводы", problems="Проблемы", measures="Меры"
        )


def test_a_criterion_saves_description_and_links(campaign, submission, world):
    answer = collection.answer_save(
        submission=submission,
        criterion=criterion(campaign, "1.1.2"),
        by=world.users["organizer"],
        description="Утверждён перечень показателей",
        links_text="https://uo.example.ru/a.pdf\n\n  https://uo.example.ru/b.pdf  \nhttps://uo.example.ru/a.pdf",
        complete=True,
    )

    assert answer.is_complete and answer.version == 1
    assert list(answer.links.values_list("url", flat=True)) == [
        "https://uo.example.ru/a.pdf",
        "https://uo.example.ru/b.pdf",
    ]
    assert Submission.objects.get(pk=submission.pk).last_activity_at is not None


def test_a_changed_list_of_links_keeps_moves_adds_and_removes(campaign, submission, world):
    def save(links, version):
        return collection.answer_save(
            submission=submission,
            criterion=criterion(campaign, "1.1.2"),
            by=world.users["organizer"],
            description="Перечень показателей",
            links_text="\n".join(f"https://uo.example.ru/{name}.pdf" for name in links),
            complete=False,
            version=version,
        )

    first = save(["a", "b", "c"], 0)
    kept = {link.url: link.pk for link in first.links.all()}
    second = save(["c", "a", "d"], 1)

    rows = list(second.links.order_by("position").values_list("url", "pk"))
    assert [url.rsplit("/", 1)[1] for url, _pk in rows] == ["c.pdf", "a.pdf", "d.pdf"]
    assert (
        dict(rows)["https://uo.example.ru/a.pdf"] == kept["https://uo.example.ru/a.pdf"]
    )  # the same row: its checks stay
    assert "https://uo.example.ru/b.pdf" not in dict(rows) and second.version == 2
    assert save(["c", "a", "d"], 2).links.count() == 3  # text only: nothing removed


@pytest.mark.parametrize(
    "bad",
    ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.ru/a", "просто текст", "https://" + "a" * 2100 + ".ru"],
)
def test_bad_links_are_refused_and_nothing_is_saved(campaign, submission, world, bad):
    with pytest.raises(CollectionError) as error:
        collection.answer_save(
            submission=submission,
            criterion=criterion(campaign, "1.1.2"),
            by=world.users["organizer"],
            description="Текст",
            links_text=f"https://uo.example.ru/ok.pdf\n{bad}",
            complete=False,
        )

    assert "2" in error.value.message  # the line is named
    assert not Answer.objects.filter(submission=submission, criterion__code="1.1.2").exists()
    assert not EvidenceLink.objects.exists()


def test_a_criterion_requiring_evidence_cannot_be_complete_without_it(campaign, submission, world):
    required = criterion(campaign, "1.1.2")
    assert required.evidence_required

    # It asks for a link to the authority's website (a file alone is not enough either: tests/test_evidence_site.py).
    with pytest.raises(
        CollectionError,
        match=re.escape(
            gettext("no link to the authority's website: this criterion needs a link to a page of its site")
        ),
    ):
        collection.answer_save(
            submission=submission,
            criterion=required,
            by=world.users["organizer"],
            description="Есть",
            links_text="",
            complete=True,
        )

    assert not Answer.objects.filter(submission=submission, criterion=required, is_complete=True).exists()


def test_two_people_saving_the_same_block_get_a_conflict_not_a_silent_overwrite(campaign, submission, world):
    c = criterion(campaign, "1.1.1")
    first = collection.answer_save(
        submission=submission,
        criterion=c,
        by=world.users["organizer"],
        description="Организатор",
        links_text="",
        complete=False,
        version=0,
    )

    with pytest.raises(ConflictError) as error:
        collection.answer_save(
            submission=submission,
            criterion=c,
            by=world.users["deputy"],
            description="Заместитель",
            links_text="",
            complete=False,
            version=0,
        )

    assert error.value.current.description == "Организатор"
    assert Answer.objects.get(pk=first.pk).description == "Организатор"


def test_submit_names_exactly_what_is_missing(campaign, submission, world):
    collection.answer_save(
        submission=submission,
        criterion=criterion(campaign, "1.1.1"),
        by=world.users["organizer"],
        description="",
        links_text="",
        complete=False,
    )

    missing = collection.submission_missing(submission)
    with pytest.raises(CollectionError):
        collection.submission_submit(
            submission=submission, by=world.users["organizer"], access=access_for(world.users["organizer"])
        )

    assert len([m for m in missing if m.criterion]) == 81
    assert len([m for m in missing if m.criterion is None]) == 9
    first = next(m for m in missing if m.criterion and m.criterion.code == "1.1.1")
    assert any("описан" in p or "description" in p for p in first.problems)
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.DRAFT


def test_submit_freezes_the_form_until_it_is_returned(campaign, submission, world, django_capture_on_commit_callbacks):
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]
    fill_everything(campaign, submission, organizer)

    with django_capture_on_commit_callbacks(execute=True):
        collection.submission_submit(submission=submission, by=organizer, access=access_for(organizer))
    with pytest.raises(CollectionError, match="только для просмотра|read-only"):
        collection.answer_save(
            submission=submission,
            criterion=criterion(campaign, "1.1.1"),
            by=organizer,
            description="x",
            links_text="",
            complete=False,
        )
    with pytest.raises(TransitionError):
        collection.submission_submit(
            submission=Submission.objects.get(pk=submission.pk), by=organizer, access=access_for(organizer)
        )
    with django_capture_on_commit_callbacks(execute=True):
        collection.submission_return(
            submission=Submission.objects.get(pk=submission.pk),
            by=coordinator,
            access=access_for(coordinator),
            reason="Нет ссылки на приказ в 1.1.1",
        )
    collection.answer_save(
        submission=submission,
        criterion=criterion(campaign, "1.1.1"),
        by=organizer,
        description="Исправлено",
        links_text="https://uo.example.ru/1.pdf",
        complete=True,
    )

    changes = list(StatusChange.objects.filter(submission=submission).values_list("old", "new", "reason"))
    assert changes == [("draft", "submitted", ""), ("submitted", "returned", "Нет ссылки на приказ в 1.1.1")]
    assert (
        StatusChange.objects.filter(submission=submission, new="submitted")
        .get()
        .snapshot["answers"]["1.1.1"]["description"]
        == "Приказ по 1.1.1"
    )
    assert any("returned" in m.subject or "доработ" in m.subject for m in mail.outbox)


def test_only_the_coordinator_of_the_region_may_return(campaign, world):
    other = campaign.submissions.get(municipality=world.other_municipality)
    Submission.objects.filter(pk=other.pk).update(status="submitted")
    other.refresh_from_db()

    with pytest.raises(TransitionError):
        collection.submission_return(
            submission=other, by=world.users["coordinator"], access=access_for(world.users["coordinator"]), reason="x"
        )


def test_after_the_deadline_submitting_needs_an_extension(campaign, world):
    organizer, coordinator = world.users["organizer"], world.users["coordinator"]
    late = timezone.localdate() + datetime.timedelta(days=40)
    campaign.stages.filter(stage=Stage.EXPERT_REVIEW).update(ends_on=late)  # the experts are still at work then
    submission = Submission.objects.get(campaign=campaign, municipality=world.municipality)
    fill_everything(campaign, submission, organizer)

    with pytest.raises(CollectionError, match="продлени|extension"):
        collection.submission_submit(submission=submission, by=organizer, access=access_for(organizer), today=late)
    collection.extension_grant(
        submission=submission,
        until=late,
        reason="Отпуск специалиста",
        by=coordinator,
        access=access_for(coordinator),
        today=late,
    )
    collection.submission_submit(
        submission=Submission.objects.get(pk=submission.pk), by=organizer, access=access_for(organizer), today=late
    )

    assert Submission.objects.get(pk=submission.pk).status == "submitted"


def test_an_extension_is_only_for_the_own_region(campaign, world):
    other = campaign.submissions.get(municipality=world.other_municipality)

    with pytest.raises(CollectionError):
        collection.extension_grant(
            submission=other,
            until=timezone.localdate(),
            reason="x",
            by=world.users["coordinator"],
            access=access_for(world.users["coordinator"]),
        )


PDF = b"%PDF-1.4\n%test\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ....", "прикреплять нельзя|cannot be attached"),
        ("..\\..\\windows\\win.pdf", PDF, "путь|path"),
        ("отчёт.pdf", b"<html>not a pdf</html>", "PDF"),
        ("empty.pdf", b"", "пуст|empty"),
    ],
)
def test_bad_attachments_are_refused(campaign, submission, world, name, content, message):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")

    with pytest.raises(CollectionError, match=message):
        collection.attachment_add(
            submission=submission, criterion=criterion(campaign, "1.1.1"), upload=upload, by=world.users["organizer"]
        )

    assert not Attachment.objects.filter(original_name=name).exists()


def test_an_oversized_attachment_is_refused(campaign, submission, world, settings):
    settings.UPLOAD_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.pdf", PDF * 2)

    with pytest.raises(CollectionError, match="10|МБ|MB"):
        collection.attachment_add(
            submission=submission, criterion=criterion(campaign, "1.1.1"), upload=upload, by=world.users["organizer"]
        )


def test_attachments_are_served_as_downloads_only_to_those_who_may_see_them(campaign, submission, world, as_role):
    attachment = collection.attachment_add(
        submission=submission,
        criterion=criterion(campaign, "1.1.1"),
        upload=SimpleUploadedFile("Приказ № 5.pdf", PDF),
        by=world.users["organizer"],
    )

    own = as_role(world, "coordinator").get(reverse("attachment_download", args=[attachment.pk]))

    assert own.status_code == 200
    assert own["Content-Disposition"].startswith("attachment")
    assert b"".join(own.streaming_content) == PDF
    assert "/static/" not in attachment.file.path
    world.users["coordinator"].appointments.update(region=world.other_region)
    assert as_role(world, "ministry").get(reverse("attachment_download", args=[attachment.pk])).status_code == 200


def test_removing_an_attachment_hides_it_but_keeps_the_file(campaign, submission, world):
    attachment = collection.attachment_add(
        submission=submission,
        criterion=criterion(campaign, "1.1.1"),
        upload=SimpleUploadedFile("a.pdf", PDF),
        by=world.users["organizer"],
    )

    collection.attachment_remove(attachment=attachment, by=world.users["organizer"])

    attachment.refresh_from_db()
    assert attachment.is_removed and attachment.file.storage.exists(attachment.file.name)


def test_reminders_go_to_laggards_once_a_day(campaign, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = collection.reminders_send(campaign=campaign, region_ids=[world.region.pk])
    again = collection.reminders_send(campaign=campaign, region_ids=[world.region.pk])

    assert sent == 2  # kirov and kumeny; elista is in another region
    assert again == 0
    recipients = {address for m in mail.outbox for address in m.to}
    assert world.users["organizer"].email in recipients and world.users["deputy"].email in recipients


def test_send_reminders_command(campaign, world, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", verbosity=0)

    # One message per person (each with their own greeting and e-mail settings).
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.users["organizer"].email, world.users["deputy"].email])


# --- views ---------------------------------------------------------------------------------------------


def save_url(code="1.1.1"):
    return reverse("answer_save", args=["test-2026", "kirov", code])


def test_autosave_endpoint_answers_json_with_progress(campaign, world, as_role):
    client = as_role(world, "organizer")

    response = client.post(
        save_url("1.1.3"),
        {"description": "Методы описаны", "links": "", "complete": "on", "version": "0"},
        HTTP_ACCEPT="application/json",
    )

    body = response.json()
    assert response.status_code == 200 and body["ok"]
    assert body["version"] == 1 and body["complete"]  # 1.1.3 does not require evidence
    assert body["progress"] == {"done": 1, "total": 81, "percent": 1}


def test_autosave_reads_its_answer_once_and_answers_the_version_it_stored(campaign, world, as_role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessment.models import Answer

    client = as_role(world, "organizer")
    data = {"description": "Цели в приказе № 214", "links": "https://uo.example.ru/214.pdf", "version": "0"}
    client.post(save_url(), data, HTTP_ACCEPT="application/json")
    with CaptureQueriesContext(connection) as queries:
        body = client.post(save_url(), {**data, "version": "1"}, HTTP_ACCEPT="application/json").json()
    sql = [q["sql"] for q in queries.captured_queries]

    stored = Answer.objects.get(submission__municipality=world.municipality, criterion__code="1.1.1")
    assert body["version"] == stored.version == 2 and stored.description == data["description"]
    assert body["saved_at"] and [link["url"] for link in body["links"]] == [data["links"]]
    assert sum(q.startswith('SELECT "assessment_answer"."id"') for q in sql) == 1  # locked once, not read back
    assert sum(q.startswith('SELECT "assessment_criterion"."id"') for q in sql) == 1  # the view's, used throughout
    assert sum(q.startswith('SELECT "assessment_campaign"."id"') for q in sql) == 0  # joined to the submission


def test_autosave_conflict_is_409_with_the_stored_text(campaign, world, as_role):
    client = as_role(world, "organizer")
    client.post(save_url(), {"description": "Первый", "version": "0"}, HTTP_ACCEPT="application/json")

    response = client.post(save_url(), {"description": "Второй", "version": "0"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    assert response.json()["description"] == "Первый"


def test_autosave_bad_input_is_400_with_a_russian_message(campaign, world, as_role):
    client = as_role(world, "organizer")

    response = client.post(
        save_url(), {"description": "x", "links": "javascript:alert(1)"}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert "http" in response.json()["error"] and "Строка 1" in response.json()["error"]


def test_the_no_javascript_form_saves_all_or_nothing(campaign, world, as_role):
    client = as_role(world, "organizer")
    url = reverse("submission_mechanism", args=["test-2026", "kirov", "1.1"])
    data = {f"c-1.1.{i}-description": f"Текст {i}" for i in range(1, 10)}
    data["c-1.1.5-links"] = "file:///etc/passwd"

    refused = client.post(url, data)
    data["c-1.1.5-links"] = "https://uo.example.ru/5.pdf"
    saved = client.post(url, data)

    assert refused.status_code == 400 and "Ничего не сохранено" in refused.content.decode()
    assert saved.status_code == 302
    assert Answer.objects.filter(submission__municipality__code="kirov", criterion__mechanism__code="1.1").count() == 9


def test_the_organizer_of_another_municipality_cannot_save(campaign, world, as_role):
    client = as_role(world, "organizer")

    response = client.post(reverse("answer_save", args=["test-2026", "elista", "1.1.1"]), {"description": "x"})

    assert response.status_code == 404


def test_the_coordinator_sees_but_cannot_fill_the_form(campaign, world, as_role):
    client = as_role(world, "coordinator")

    page = client.get(reverse("submission_mechanism", args=["test-2026", "kirov", "1.1"]))
    post = client.post(save_url(), {"description": "x"})

    assert page.status_code == 200 and "readonly" in page.content.decode()
    assert post.status_code == 403


def test_region_progress_has_no_n_plus_one(campaign, world, as_role, django_assert_max_num_queries):
    from assessment.models import Participation
    from assessment.services import submissions_ensure

    client = as_role(world, "coordinator")
    url = reverse("region_progress", args=["test-2026", world.region.code])
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for i in range(15):
        Participation.objects.create(
            campaign=campaign, municipality=MunicipalityFactory(region=world.region, code=f"extra-{i}")
        )
    submissions_ensure(campaign=campaign)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    assert all(f"/m/extra-{i}/" in response.content.decode() for i in range(15))  # every row is on the page

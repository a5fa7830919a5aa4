"""Limits a careless or hostile user meets (issue 13, finding 9): files per criterion and per form, bytes per
form, removed files purged after their retention period, extensions no later than the expert review."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessment import collection
from assessment.collection import CollectionError
from assessment.models import Attachment, Criterion, DeadlineExtension, Stage, Submission
from municipalities.access import access_for

PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def submission(campaign, world):
    return campaign.submissions.get(municipality=world.municipality)


def criterion(campaign, code):
    return Criterion.objects.get(mechanism__methodology=campaign.methodology, code=code)


def attach(submission, campaign, world, code="1.1.2", name="приказ.pdf", content=PDF):
    return collection.attachment_add(
        submission=submission,
        criterion=criterion(campaign, code),
        upload=SimpleUploadedFile(name, content),
        by=world.users["organizer"],
    )


def stored_files(submission):
    """The files under the submission's folder of the storage, as the disk sees them."""
    from django.core.files.storage import default_storage

    folder = f"evidence/{submission.campaign_id}/{submission.pk}"
    return set(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else set()


# --- files per criterion, per form, bytes per form ----------------------------------------------------------


def test_a_criterion_holds_at_most_so_many_files_and_a_refused_one_leaves_nothing(
    campaign, submission, world, settings
):
    settings.UPLOAD_MAX_FILES_PER_ANSWER = 2
    attach(submission, campaign, world, name="1.pdf")
    attach(submission, campaign, world, name="2.pdf")
    files, rows = stored_files(submission), Attachment.objects.count()

    with pytest.raises(CollectionError, match="(не более|не больше|at most) 2 ") as refused:
        attach(submission, campaign, world, name="3.pdf")

    assert "3.pdf" in refused.value.message
    assert Attachment.objects.count() == rows and stored_files(submission) == files
    attach(submission, campaign, world, code="1.1.3", name="other.pdf")  # another criterion has room


def test_removed_files_do_not_count(campaign, submission, world, settings):
    settings.UPLOAD_MAX_FILES_PER_ANSWER = 1
    first = attach(submission, campaign, world, name="old.pdf")

    collection.attachment_remove(attachment=first, by=world.users["organizer"])
    again = attach(submission, campaign, world, name="new.pdf")

    assert again.original_name == "new.pdf"


def test_a_form_holds_at_most_so_many_files(campaign, submission, world, settings):
    settings.UPLOAD_MAX_FILES_PER_SUBMISSION = 4  # the campaign's own file on 1.1.1, and three more
    for code in ("1.1.1", "1.1.2", "1.1.3"):
        attach(submission, campaign, world, code=code)

    with pytest.raises(CollectionError, match="(не более|не больше|at most) 4 "):
        attach(submission, campaign, world, code="1.1.4")

    assert not Attachment.objects.filter(answer__submission=submission, answer__criterion__code="1.1.4").exists()


def test_the_files_of_a_form_have_a_total_size(campaign, submission, world, settings):
    settings.UPLOAD_MAX_BYTES_PER_SUBMISSION = 2**20
    held = sum(Attachment.objects.filter(answer__submission=submission).values_list("size", flat=True))
    room = 2 * len(PDF)
    attach(submission, campaign, world, code="1.1.1", content=PDF + b"x" * (2**20 - held - room - len(PDF)))
    files = stored_files(submission)

    with pytest.raises(CollectionError, match="1 МБ|1 MB"):
        attach(submission, campaign, world, code="1.1.2", content=PDF * 3)

    assert stored_files(submission) == files
    attach(submission, campaign, world, code="1.1.2", content=PDF * 2)  # what still fits is taken


def test_the_upload_page_refuses_a_file_over_the_limit_with_a_message(campaign, submission, world, settings, as_role):
    settings.UPLOAD_MAX_FILES_PER_ANSWER = 1
    attach(submission, campaign, world)
    client = as_role(world, "organizer")

    response = client.post(
        reverse("attachment_upload", args=[campaign.slug, "kirov", "1.1.2"]),
        {"file": SimpleUploadedFile("ещё.pdf", PDF)},
        follow=True,
    )

    assert response.status_code == 200
    assert "«ещё.pdf»" in response.content.decode()
    assert not Attachment.objects.filter(original_name="ещё.pdf").exists()


# --- removed files are purged after their retention period --------------------------------------------------


def test_purge_deletes_only_the_files_removed_longer_ago_than_the_retention(campaign, submission, world, settings):
    settings.REMOVED_FILES_RETENTION_DAYS = 90
    now = timezone.now()
    old, recent, kept = (attach(submission, campaign, world, name=n) for n in ("old.pdf", "recent.pdf", "kept.pdf"))
    for attachment in (old, recent):
        collection.attachment_remove(attachment=attachment, by=world.users["organizer"])
    Attachment.objects.filter(pk=old.pk).update(removed_at=now - datetime.timedelta(days=91))
    Attachment.objects.filter(pk=recent.pk).update(removed_at=now - datetime.timedelta(days=10))
    out = io.StringIO()

    call_command("purge_removed_files", stdout=out)

    old.refresh_from_db()
    assert old.purged_at and old.is_removed and old.original_name == "old.pdf"  # the row and its history stay
    assert not old.file.storage.exists(old.file.name)
    for attachment in (recent, kept):
        attachment.refresh_from_db()
        assert attachment.purged_at is None and attachment.file.storage.exists(attachment.file.name)
    assert "old.pdf" in out.getvalue() and "recent.pdf" not in out.getvalue()
    assert "Удалено файлов: 1" in out.getvalue()
    assert Attachment.objects.filter(answer__submission=submission).count() == 1 + 3  # no row deleted

    again = io.StringIO()
    call_command("purge_removed_files", "--days", "5", stdout=again)

    recent.refresh_from_db()
    assert recent.purged_at and not recent.file.storage.exists(recent.file.name)
    assert "recent.pdf" in again.getvalue() and "old.pdf" not in again.getvalue()
    kept.refresh_from_db()
    assert kept.file.storage.exists(kept.file.name)


def test_a_purged_file_is_not_found_rather_than_an_error(campaign, submission, world, as_role):
    attachment = attach(submission, campaign, world)
    collection.attachment_remove(attachment=attachment, by=world.users["organizer"])
    call_command("purge_removed_files", "--days", "0", stdout=io.StringIO())

    response = as_role(world, "coordinator").get(reverse("attachment_download", args=[attachment.pk]))

    assert response.status_code == 404


def test_purge_refuses_a_negative_retention(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("purge_removed_files", "--days", "-1", stdout=io.StringIO())


# --- extensions end no later than the expert review ---------------------------------------------------------


def test_an_extension_beyond_the_end_of_the_expert_review_is_refused(campaign, submission, world):
    coordinator = world.users["coordinator"]
    review_ends = campaign.stages.get(stage=Stage.EXPERT_REVIEW).ends_on

    with pytest.raises(CollectionError, match="экспертиз|expert review"):
        collection.extension_grant(
            submission=submission,
            until=review_ends + datetime.timedelta(days=1),
            reason="Отпуск специалиста",
            by=coordinator,
            access=access_for(coordinator),
        )

    assert not DeadlineExtension.objects.exists()
    assert Submission.objects.get(pk=submission.pk).deadline_extended_to is None
    collection.extension_grant(
        submission=submission, until=review_ends, reason="Отпуск", by=coordinator, access=access_for(coordinator)
    )
    assert Submission.objects.get(pk=submission.pk).deadline() == review_ends


def test_the_extension_page_names_the_end_of_the_expert_review(campaign, world, as_role):
    review_ends = campaign.stages.get(stage=Stage.EXPERT_REVIEW).ends_on
    client = as_role(world, "coordinator")

    response = client.post(
        reverse("submission_extend", args=[campaign.slug, "kirov"]),
        {"until": (review_ends + datetime.timedelta(days=30)).isoformat(), "reason": "Отпуск"},
        follow=True,
    )

    assert response.status_code == 200
    assert str(review_ends.year) in response.content.decode()
    assert not DeadlineExtension.objects.exists()

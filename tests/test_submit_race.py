"""Submit against autosave at the same moment, on PostgreSQL's real concurrent transactions (issue 13, finding 6).

Submit checks that the form is complete and freezes a snapshot of it. An autosave that slips in between must
not leave a "submitted" form that is incomplete or differs from its snapshot: either the autosave lands first
and the submit is refused as incomplete (or, for the removal of a file that was extra evidence, goes through
without it), or the submit lands first and the autosave is refused because the form is no longer editable."""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from assessment import collection
from assessment.collection import CollectionError
from assessment.models import Attachment, Criterion, StatusChange, Submission
from assessment.workflow import TransitionError
from municipalities.access import access_for

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 16
PDF = b"%PDF-1.4\n%test\n"
NOT_EDITABLE = "только для просмотра"


def _fill(campaign, submission, user):
    """Every criterion described with a link; 1.1.2 has a file beside its link (a file alone no longer completes a
    criterion that requires a link: tests/test_evidence_site.py)."""
    for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology).select_related("mechanism"):
        if c.code == "1.1.2":
            _attach(submission, c, user)
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


def _attach(submission, criterion, user):
    return collection.attachment_add(
        submission=submission, criterion=criterion, upload=SimpleUploadedFile("приказ.pdf", PDF), by=user
    )


def _reopen(campaign, submission, user):
    """Back to a complete draft, as the form was before the round."""
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.DRAFT)
    first = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1")
    second = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.2")
    collection.answer_save(
        submission=submission,
        criterion=first,
        by=user,
        description="Приказ по 1.1.1",
        links_text="https://uo.example.ru/1.1.1.pdf",
        complete=True,
    )
    if not Attachment.objects.filter(answer__submission=submission, answer__criterion=second, is_removed=False):
        _attach(submission, second, user)


def _race(submit, autosave, delay):
    """Run both at the same moment (the autosave `delay` seconds later, to sweep the submit's window);
    returns what each raised (None: it went through)."""
    barrier = threading.Barrier(2)
    outcome = {}

    def run(name, action, pause):
        barrier.wait()
        time.sleep(pause)
        try:
            action()
            outcome[name] = None
        except (CollectionError, TransitionError) as exc:
            outcome[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("submit", submit, 0)),
        threading.Thread(target=run, args=("autosave", autosave, delay)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome["submit"], outcome["autosave"]


@pytest.mark.parametrize("autosave_kind", ["description", "file"])
def test_a_submitted_form_is_complete_and_equal_to_its_snapshot_whatever_saves_at_the_same_moment(
    campaign, world, autosave_kind
):
    organizer, deputy = world.users["organizer"], world.users["deputy"]
    submission = campaign.submissions.get(municipality=world.municipality)
    _fill(campaign, submission, organizer)
    first = Criterion.objects.get(mechanism__methodology=campaign.methodology, code="1.1.1")
    outcomes = []

    for round_ in range(ROUNDS):
        _reopen(campaign, submission, organizer)

        def submit():
            collection.submission_submit(
                submission=Submission.objects.get(pk=submission.pk), by=organizer, access=access_for(organizer)
            )

        def autosave():
            if autosave_kind == "description":  # the deputy empties a block the organizer had completed
                collection.answer_save(
                    submission=Submission.objects.get(pk=submission.pk),
                    criterion=first,
                    by=deputy,
                    description="",
                    links_text="",
                    complete=False,
                )
            else:  # the deputy removes the file of 1.1.2 (its link stays)
                attachment = Attachment.objects.get(
                    answer__submission=submission, answer__criterion__code="1.1.2", is_removed=False
                )
                collection.attachment_remove(attachment=attachment, by=deputy)

        submitted, saved = _race(submit, autosave, delay=(round_ % 8) * 0.004)

        state = Submission.objects.get(pk=submission.pk)
        if state.status == Submission.Status.SUBMITTED:
            change = StatusChange.objects.filter(submission=submission, new="submitted").latest("at", "pk")
            assert collection.submission_missing(state) == [], f"round {round_}: submitted incomplete"
            assert change.snapshot == collection.snapshot(state), f"round {round_}: the form moved after submit"
            assert submitted is None
            if saved is None:
                # Only a file's removal may land first and still let the submit through (the file was extra
                # evidence beside the link); the snapshot then lists no file for 1.1.2.
                assert autosave_kind == "file", f"round {round_}: the autosave went through"
                assert change.snapshot["answers"]["1.1.2"]["attachments"] == [], f"round {round_}"
                outcomes.append("autosave first")
            else:
                assert NOT_EDITABLE in saved.message, f"round {round_}: {saved!r}"
                outcomes.append("submit first")
        else:
            assert state.status == Submission.Status.DRAFT
            assert saved is None and isinstance(submitted, CollectionError), f"round {round_}: {submitted!r}"
            outcomes.append("autosave first")

    assert outcomes  # every round ended in one of the two consistent orders

"""Data collection: the organizer's form, its evidence, submitting it, and the coordinator's levers
(extensions, reminders). Every write is atomic; a refused write raises CollectionError with a message
for the user and changes nothing."""

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import workflow
from assessment.models import (
    Answer,
    Attachment,
    Criterion,
    DeadlineExtension,
    EvidenceLink,
    MechanismAnalysis,
    Stage,
    Submission,
)
from assessment.tasks import schedule_link_checks
from municipalities.models import MUNICIPAL_ROLES, Appointment, Notification, Role
from municipalities.notifications import notify

MAX_LINKS = 20
MAX_TEXT = 10000
MAX_URL = 2000
_url = URLValidator(schemes=["http", "https"])


class CollectionError(Exception):
    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ConflictError(CollectionError):
    """Someone saved the same block in between; `current` holds what is stored now."""

    def __init__(self, message, current):
        super().__init__(message)
        self.current = current


# --- reading ---------------------------------------------------------------------------------------------

# ASCII digits only, and no more of them than a database integer holds: int() would take "５", "1_000" or
# twenty nines, and the database would then fail on them (a 500) instead of the view answering with a message.
WHOLE = re.compile(r"-?[0-9]{1,9}")


def whole_number(value):
    """A number read from a form field (a hidden version, an id): the int, None when blank, ValueError for
    anything else, so that the view answers 400 with a message (or 404 for an id). Points have their own rule
    (scoring.points_from_text)."""
    value = (value or "").strip()
    if not value:
        return None
    if not WHOLE.fullmatch(value):
        raise ValueError(value)
    return int(value)


def form_version(value):
    """The version a block was loaded at (hidden in the form): a tampered or damaged one is refused with
    a message like any other field, never a 500 when it is compared with the stored one."""
    try:
        return whole_number(value)
    except ValueError:
        message = _("The form was sent damaged: reload the page and try again.")
        raise CollectionError(message, errors={"version": message}) from None


def plain_text(value):
    """A text as typed, without the NUL characters no database column may hold (PostgreSQL refuses them)."""
    return (value or "").replace("\x00", "").strip()


def internal_host(host):
    """Whether a link's host is this machine or a private network (localhost, 10.0.0.1, 169.254.169.254, [::1]…):
    such a link is no evidence a ministry could open, and the link checker must never fetch it. An intranet
    deployment allows them with LINKCHECK_ALLOW_PRIVATE, as for the checker."""
    if settings.LINKCHECK_ALLOW_PRIVATE:
        return False
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: the checker refuses it when it resolves to an internal address
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return not ip.is_global or ip.is_multicast


def link_refusal(url):
    """Why `url` cannot be a link the product keeps (None: it can): "long", "web" (not an http(s) address) or
    "internal". The one rule for evidence links (form, autosave, Excel import) and materials' links."""
    if len(url) > MAX_URL:
        return "long"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "web"
    try:
        _url(url)
    except ValidationError:
        return "web"
    if internal_host(urlsplit(url).hostname):
        return "internal"
    return None


def parse_links(text, maximum=MAX_LINKS, too_many=None):
    """One URL per line → a clean list, or CollectionError naming the bad line. At most `maximum` links; `too_many`
    is the message when there are more (by default the one of a criterion's links)."""
    links = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        url = raw.strip()
        if not url:
            continue
        refusal = link_refusal(url)
        if refusal == "long":
            raise CollectionError(
                _("Line %(n)s: the link is longer than %(max)s characters.") % {"n": number, "max": MAX_URL}
            )
        if refusal == "web":
            raise CollectionError(
                _("Line %(n)s: «%(url)s» is not a web address; links must start with http:// or https://.")
                % {"n": number, "url": url[:80]}
            )
        if refusal == "internal":
            raise CollectionError(
                _("Line %(n)s: «%(url)s» points to an internal address; give a link to a public web page.")
                % {"n": number, "url": url[:80]}
            )
        if url not in links:
            links.append(url)
    if len(links) > maximum:
        raise CollectionError(too_many or _("At most %(max)s links per criterion.") % {"max": maximum})
    return links


def answer_problems(criterion, description, link_count, file_count):
    """Why this answer cannot count as complete (empty list: it can). Where the criterion requires evidence the
    experts look for a page of the authority's website (seed 004: «МОУО не были представлены ссылки с сайтов»),
    so it takes at least one link; a file is welcome beside it but does not replace it. Where it does not, the
    description is enough. `file_count` is kept for the callers: files no longer decide completeness."""
    problems = []
    if not (description or "").strip():
        problems.append(_("no description of what is in place"))
    if criterion.evidence_required and not link_count:
        if file_count:
            problems.append(
                _(
                    "no link to the authority's website: this criterion needs a link to a page of the "
                    "authority's site; an attached file is welcome as well but does not replace the link"
                )
            )
        else:
            problems.append(_("no link to the authority's website: this criterion needs a link to a page of its site"))
    return problems


@dataclass
class Missing:
    criterion: Criterion | None = None
    mechanism: object = None
    problems: list = field(default_factory=list)


def submission_missing(submission):
    """Exactly what keeps the submission from being sent, by criterion, then the analysis forms."""
    criteria = list(
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id).select_related(
            "mechanism", "component"
        )
    )
    answers = {
        a.criterion_id: a
        for a in submission.answers.annotate(
            n_links=Count("links", distinct=True),
            n_files=Count("attachments", filter=Q(attachments__is_removed=False), distinct=True),
        )
    }
    missing = []
    for criterion in criteria:
        answer = answers.get(criterion.pk)
        if answer is None:
            missing.append(Missing(criterion, criterion.mechanism, [_("not filled in")]))
            continue
        problems = answer_problems(criterion, answer.description, answer.n_links, answer.n_files)
        if not problems and not answer.is_complete:
            problems = [_("not marked as complete")]
        if problems:
            missing.append(Missing(criterion, criterion.mechanism, problems))
    analyses = {a.mechanism_id: a for a in submission.analyses.all()}
    mechanisms = {c.mechanism_id: c.mechanism for c in criteria}
    for mechanism in sorted(mechanisms.values(), key=lambda m: m.order):
        analysis = analyses.get(mechanism.pk)
        if analysis is None or not analysis.is_complete:
            missing.append(
                Missing(
                    None,
                    mechanism,
                    [_("the results of comprehensive analysis are not filled in (conclusions, problems, measures)")],
                )
            )
    return missing


def progress(submission_ids, methodology):
    """{submission_id: {"done": n, "total": N, "by_mechanism": {code: (done, total)}}} in two queries."""
    per_mechanism = dict(
        Criterion.objects.filter(mechanism__methodology=methodology)
        .values_list("mechanism__code")
        .annotate(n=Count("pk"))
        .values_list("mechanism__code", "n")
    )
    total = sum(per_mechanism.values())
    result = {
        sid: {"done": 0, "total": total, "by_mechanism": dict.fromkeys(per_mechanism, 0)} for sid in submission_ids
    }
    rows = (
        Answer.objects.filter(submission_id__in=submission_ids, is_complete=True)
        .values_list("submission_id", "criterion__mechanism__code")
        .annotate(n=Count("pk"))
    )
    for sid, code, n in rows:
        result[sid]["by_mechanism"][code] = n
        result[sid]["done"] += n
    for item in result.values():
        item["percent"] = round(100 * item["done"] / total) if total else 0
        item["mechanisms"] = {
            code: {"done": done, "total": per_mechanism[code], "percent": round(100 * done / per_mechanism[code])}
            for code, done in item["by_mechanism"].items()
        }
    return result


# --- the organizer's writes --------------------------------------------------------------------------------


def _editable(submission):
    if not submission.is_editable:
        raise CollectionError(
            _("The form has been submitted (%(status)s) and is read-only until it is returned for corrections.")
            % {"status": submission.get_status_display()}
        )


def _touch(submission, now):
    Submission.objects.filter(pk=submission.pk).update(last_activity_at=now)


@transaction.atomic
def answer_save(*, submission, criterion, by, description, links_text, complete, version=None):
    """Save one criterion block: description, links and the "complete" mark, in one round trip."""
    submission = Submission.objects.select_related("campaign").locked(submission.pk)
    _editable(submission)
    if criterion.mechanism.methodology_id != submission.campaign.methodology_id:
        raise CollectionError(_("This criterion belongs to another methodology."))
    description = plain_text(description)
    if len(description) > MAX_TEXT:
        raise CollectionError(
            _("The description is longer than %(max)s characters.") % {"max": MAX_TEXT}, {"description": True}
        )
    try:
        links = parse_links(links_text)
    except CollectionError as exc:
        exc.errors = {"links": True}
        raise
    answer, _created = Answer.objects.select_for_update().get_or_create(submission=submission, criterion=criterion)
    if version is not None and int(version) != answer.version:
        raise ConflictError(
            _(
                "Someone else (perhaps your deputy) saved this criterion a moment ago. "
                "Their text is shown now; copy yours back in if it should win."
            ),
            current=answer,
        )
    file_count = answer.attachments.filter(is_removed=False).count()
    if complete:
        problems = answer_problems(criterion, description, len(links), file_count)
        if problems:
            raise CollectionError(
                _("Cannot be marked complete: %(problems)s.") % {"problems": "; ".join(problems)},
                {"complete": True},
            )
    now = timezone.now()
    existing = {link.url: link for link in answer.links.all()}
    gone = [link.pk for url, link in existing.items() if url not in links]
    if gone:  # most saves change only the text: no delete to run (its collector reads the rows first)
        EvidenceLink.objects.filter(pk__in=gone).delete()
    new_links, moved = [], []
    for position, url in enumerate(links):
        link = existing.get(url)
        if link is None:
            new_links.append(EvidenceLink(answer=answer, url=url, position=position))
        elif link.position != position:
            link.position = position
            moved.append(link)
    EvidenceLink.objects.bulk_create(new_links)
    EvidenceLink.objects.bulk_update(moved, ["position"])
    # The row is locked (select_for_update above): the next version is known without reading it back.
    answer.description, answer.is_complete, answer.updated_at, answer.updated_by = description, bool(complete), now, by
    answer.version += 1
    answer.save(update_fields=["description", "is_complete", "updated_at", "updated_by", "version"])
    _touch(submission, now)
    schedule_link_checks(
        EvidenceLink.objects.filter(answer=answer, url__in=[link.url for link in new_links]).values_list(
            "pk", flat=True
        ),
        "saved",
    )
    return answer


@transaction.atomic
def analysis_save(*, submission, mechanism, by, conclusions, problems, measures, version=None):
    submission = Submission.objects.locked(submission.pk)
    _editable(submission)
    texts = {"conclusions": plain_text(conclusions), "problems": plain_text(problems), "measures": plain_text(measures)}
    for name, text in texts.items():
        if len(text or "") > MAX_TEXT:
            raise CollectionError(_("The text is longer than %(max)s characters.") % {"max": MAX_TEXT}, {name: True})
    analysis, _created = MechanismAnalysis.objects.select_for_update().get_or_create(
        submission=submission, mechanism=mechanism
    )
    if version is not None and int(version) != analysis.version:
        raise ConflictError(
            _("Someone else saved this analysis a moment ago. Their text is shown now."), current=analysis
        )
    now = timezone.now()
    for name, text in texts.items():
        setattr(analysis, name, text)
    analysis.updated_at, analysis.updated_by = now, by
    analysis.version += 1  # the row is locked: the next version is known without reading it back
    analysis.save(update_fields=[*texts, "updated_at", "updated_by", "version"])
    _touch(submission, now)
    return analysis


@transaction.atomic
def mechanism_save(*, submission, mechanism, by, blocks, analysis):
    """Save a mechanism page sent as one form (without JavaScript): every criterion block and the analysis, or
    nothing. `blocks` is {criterion: {"description", "links", "complete", "version"}} and `analysis`
    {"conclusions", "problems", "measures", "version"}, as posted (versions as text); a refusal names each
    refused block in its `errors` (by criterion code, "analysis" for the analysis)."""
    errors = {}
    for criterion, data in blocks.items():
        try:
            answer_save(
                submission=submission,
                criterion=criterion,
                by=by,
                description=data["description"],
                links_text=data["links"],
                complete=data["complete"],
                version=form_version(data["version"]),
            )
        except CollectionError as exc:
            errors[criterion.code] = exc.message
    try:
        analysis_save(
            submission=submission,
            mechanism=mechanism,
            by=by,
            conclusions=analysis["conclusions"],
            problems=analysis["problems"],
            measures=analysis["measures"],
            version=form_version(analysis["version"]),
        )
    except CollectionError as exc:
        errors["analysis"] = exc.message
    if errors:
        # Raised inside the transaction: the blocks that were saved are rolled back with it.
        raise CollectionError(_("Nothing was saved: correct the marked blocks."), errors=errors)


SIGNATURES = {
    ".pdf": [b"%PDF"],
    ".docx": [b"PK\x03\x04"],
    ".xlsx": [b"PK\x03\x04"],
    ".odt": [b"PK\x03\x04"],
    ".ods": [b"PK\x03\x04"],
    ".png": [b"\x89PNG\r\n\x1a\n"],
    ".jpg": [b"\xff\xd8\xff"],
    ".jpeg": [b"\xff\xd8\xff"],
}
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def validate_upload(upload):
    """Type by extension and by the file's first bytes, size, and a plain name; returns (name, ext)."""
    name = upload.name or ""
    if "/" in name or "\\" in name or name.startswith(".") or "\x00" in name or ".." in name:
        raise CollectionError(_("The file name must not contain a path: «%(name)s».") % {"name": name[:100]})
    name = name.strip()
    extension = PurePosixPath(name.lower()).suffix
    # Cut to what a file system holds (255 bytes a name), the extension kept: «Приказ … .pdf» stays a PDF.
    stem = name[: len(name) - len(extension)]
    while len((stem + extension).encode()) > 150:
        stem = stem[:-1]
    name = stem + extension
    if extension not in settings.UPLOAD_EXTENSIONS:
        raise CollectionError(
            _("Files of this type cannot be attached: «%(name)s». Allowed: PDF, DOCX, XLSX, ODT, ODS, PNG, JPG.")
            % {"name": name}
        )
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise CollectionError(
            _("«%(name)s» is larger than %(max)s MB.") % {"name": name, "max": settings.UPLOAD_MAX_BYTES // 2**20}
        )
    if upload.size == 0:
        raise CollectionError(_("«%(name)s» is empty.") % {"name": name})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in SIGNATURES[extension]):
        raise CollectionError(
            _("«%(name)s» is not really a %(ext)s file.") % {"name": name, "ext": extension[1:].upper()}
        )
    return name, extension


def _check_room(submission, criterion, name, size):
    """Refuse a file the form has no room for: so many per criterion, so many and so many bytes per form.
    Removed files do not count (they are purged after their retention period)."""
    held = Attachment.objects.filter(answer__submission=submission, is_removed=False).aggregate(
        files=Count("pk"), here=Count("pk", filter=Q(answer__criterion=criterion)), size=Sum("size")
    )
    if held["here"] >= settings.UPLOAD_MAX_FILES_PER_ANSWER:
        raise CollectionError(
            _("«%(name)s» is not attached: a criterion holds at most %(max)s files. Remove one you no longer need.")
            % {"name": name, "max": settings.UPLOAD_MAX_FILES_PER_ANSWER}
        )
    if held["files"] >= settings.UPLOAD_MAX_FILES_PER_SUBMISSION:
        raise CollectionError(
            _("«%(name)s» is not attached: the form holds at most %(max)s files. Remove one you no longer need.")
            % {"name": name, "max": settings.UPLOAD_MAX_FILES_PER_SUBMISSION}
        )
    if (held["size"] or 0) + size > settings.UPLOAD_MAX_BYTES_PER_SUBMISSION:
        raise CollectionError(
            _("«%(name)s» is not attached: the files of the form would take more than %(max)s MB together.")
            % {"name": name, "max": settings.UPLOAD_MAX_BYTES_PER_SUBMISSION // 2**20}
        )


@transaction.atomic
def attachment_add(*, submission, criterion, upload, by):
    submission = Submission.objects.locked(submission.pk)
    _editable(submission)
    name, extension = validate_upload(upload)
    _check_room(submission, criterion, name, upload.size)  # under the lock: two uploads at once cannot both fit
    answer, _created = Answer.objects.get_or_create(submission=submission, criterion=criterion)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        answer=answer,
        original_name=name,
        size=upload.size,
        content_type=CONTENT_TYPES[extension],
        sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    attachment.file.save(f"{digest.hexdigest()[:16]}{extension}", upload, save=False)
    attachment.save()
    now = timezone.now()
    Answer.objects.filter(pk=answer.pk).update(updated_at=now, updated_by=by, version=F("version") + 1)
    _touch(submission, now)
    return attachment


@transaction.atomic
def attachment_remove(*, attachment, by):
    """Hidden from the form, never deleted: the file may be the evidence an earlier round was scored on."""
    submission = Submission.objects.locked(attachment.answer.submission_id)
    _editable(submission)
    now = timezone.now()
    Attachment.objects.filter(pk=attachment.pk, is_removed=False).update(is_removed=True, removed_at=now)
    # Read under the lock: the caller's copy may predate a save that completed the answer meanwhile.
    answer = Answer.objects.select_related("criterion").get(pk=attachment.answer_id)
    remaining_links = answer.links.count()
    remaining_files = answer.attachments.filter(is_removed=False).count()
    if answer.is_complete and answer_problems(answer.criterion, answer.description, remaining_links, remaining_files):
        Answer.objects.filter(pk=answer.pk).update(is_complete=False)
    Answer.objects.filter(pk=answer.pk).update(updated_at=now, updated_by=by, version=F("version") + 1)
    _touch(submission, now)


def removed_files_purge(*, days, now=None):
    """Delete the stored files of attachments removed more than `days` days ago; each row stays, marked
    purged, so the history still names the file. Returns the purged attachments."""
    now = now or timezone.now()
    due = (
        Attachment.objects.filter(is_removed=True, purged_at__isnull=True, removed_at__lt=now - timedelta(days=days))
        .select_related("answer__criterion", "answer__submission__campaign", "answer__submission__municipality")
        .order_by("removed_at", "pk")
    )
    purged = []
    for attachment in due:
        with transaction.atomic():
            Submission.objects.locked(attachment.answer.submission_id)
            if not Attachment.objects.filter(pk=attachment.pk, is_removed=True, purged_at__isnull=True).exists():
                continue
            name = attachment.file.name
            # Never a file another attachment still shows (each upload has its own name; this only guards it).
            shared = Attachment.objects.filter(file=name, purged_at__isnull=True).exclude(pk=attachment.pk).exists()
            if name and not shared:
                # The file goes first: if the mark then failed, the next run deletes nothing more and marks it.
                attachment.file.storage.delete(name)
            Attachment.objects.filter(pk=attachment.pk).update(purged_at=now)
            attachment.purged_at = now
        purged.append(attachment)
    return purged


def snapshot(submission):
    """The submission's content as JSON, kept with the submit so every round stays readable."""
    answers = submission.answers.select_related("criterion").prefetch_related("links", "attachments")
    return {
        "answers": {
            a.criterion.code: {
                "description": a.description,
                "complete": a.is_complete,
                "links": [link.url for link in a.links.all()],
                "attachments": [[f.pk, f.original_name, f.sha256] for f in a.attachments.all() if not f.is_removed],
            }
            for a in answers
        },
        "analyses": {
            a.mechanism.code: {"conclusions": a.conclusions, "problems": a.problems, "measures": a.measures}
            for a in submission.analyses.select_related("mechanism")
        },
    }


# --- moves ------------------------------------------------------------------------------------------------


def organizers_of(municipality_ids):
    """{municipality id: [users]}: the organizers and deputies of each municipality, in one query."""
    people = {}
    for a in (
        Appointment.objects.active()
        .filter(municipality__in=municipality_ids, role__in=list(MUNICIPAL_ROLES))
        .select_related("user")
    ):
        people.setdefault(a.municipality_id, []).append(a.user)
    return people


def organizers(submission):
    return organizers_of([submission.municipality_id]).get(submission.municipality_id, [])


def coordinators(submission):
    return [
        a.user
        for a in Appointment.objects.active()
        .filter(region=submission.municipality.region_id, role=Role.COORDINATOR)
        .select_related("user")
    ]


@transaction.atomic
def submission_submit(*, submission, by, access, today=None):
    # Locked before the completeness check and the snapshot: a save waiting for the lock then finds the form
    # submitted and is refused, so what was checked is what is frozen and what stays.
    Submission.objects.locked(submission.pk)
    today = today or timezone.localdate()
    deadline = submission.deadline()
    if deadline and today > deadline:
        raise CollectionError(
            _(
                "The deadline (%(date)s) has passed. Ask your regional coordinator for an extension; "
                "your form is kept as it is."
            )
            % {"date": formats.date_format(deadline, "j E Y")}
        )
    missing = submission_missing(submission)
    if missing:
        raise CollectionError(
            ngettext(
                "%(n)s item is missing. The list below names each one.",
                "%(n)s items are missing. The list below names each one.",
                len(missing),
            )
            % {"n": len(missing)}
        )
    now = timezone.now()
    workflow.apply(
        submission=submission, name="submit", by=by, access=access, snapshot=snapshot(submission), submitted_at=now
    )
    schedule_link_checks(
        EvidenceLink.objects.filter(answer__submission=submission).values_list("pk", flat=True), "submit"
    )
    notify(
        coordinators(submission),
        Notification.Kind.SUBMITTED,
        _("%(municipality)s has submitted its forms") % {"municipality": submission.municipality},
        _("%(municipality)s has submitted its primary-data forms for «%(campaign)s».")
        % {"municipality": submission.municipality, "campaign": submission.campaign},
        reverse("submission_detail", args=[submission.campaign.slug, submission.municipality.code]),
    )
    return submission


@transaction.atomic
def submission_return(*, submission, by, access, reason, criteria=()):
    """Send the forms back, naming the criteria to correct; the organizer fixes only those and resubmits."""
    Submission.objects.locked(submission.pk)
    codes = sorted(
        {c.strip() for c in criteria if c.strip()}, key=lambda c: [int(p) for p in c.split(".") if p.isdigit()]
    )
    known = set(
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id).values_list(
            "code", flat=True
        )
    )
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise CollectionError(_("Unknown criteria: %(codes)s.") % {"codes": ", ".join(unknown[:5])})
    workflow.apply(submission=submission, name="return", by=by, access=access, reason=reason, criteria=codes)
    if codes:
        # The named criteria must be looked at again before the next submit.
        Answer.objects.filter(submission=submission, criterion__code__in=codes).update(is_complete=False)
        reason = _("Criteria to correct: %(codes)s.") % {"codes": ", ".join(codes)} + "\n\n" + reason
    notify(
        organizers(submission),
        Notification.Kind.RETURNED,
        _("Your forms were returned for corrections"),
        _("The forms of %(municipality)s for «%(campaign)s» were returned for corrections:\n\n%(reason)s")
        % {"municipality": submission.municipality, "campaign": submission.campaign, "reason": reason},
        reverse("submission_detail", args=[submission.campaign.slug, submission.municipality.code]),
    )
    return submission


@transaction.atomic
def extension_grant(*, submission, until, reason, by, access, today=None):
    today = today or timezone.localdate()
    if not access.can_manage_region(submission.municipality.region_id):
        raise CollectionError(_("Only the coordinator of this region can extend its deadlines."))
    if not isinstance(until, date) or until < today:
        raise CollectionError(_("The new deadline must be today or later."))
    review = submission.campaign.stage_dates.get(Stage.EXPERT_REVIEW)
    if review and until > review.ends_on:
        # Forms that arrive after the experts have finished could never be reviewed nor scored.
        raise CollectionError(
            _("The new deadline cannot be later than the end of the expert review (%(date)s).")
            % {"date": formats.date_format(review.ends_on, "j E Y")}
        )
    if not (reason or "").strip():
        raise CollectionError(_("Please give the reason."))
    Submission.objects.locked(submission.pk)
    DeadlineExtension.objects.create(submission=submission, until=until, reason=reason.strip(), granted_by=by)
    Submission.objects.filter(pk=submission.pk).update(deadline_extended_to=until)
    submission.deadline_extended_to = until
    notify(
        organizers(submission),
        Notification.Kind.DEADLINE,
        _("Your deadline was extended"),
        _("The deadline for the forms of %(municipality)s in «%(campaign)s» is now %(date)s.")
        % {
            "municipality": submission.municipality,
            "campaign": submission.campaign,
            "date": formats.date_format(until, "j E Y"),
        },
        reverse("submission_detail", args=[submission.campaign.slug, submission.municipality.code]),
    )
    return submission


def laggards(campaign, region_ids=None):
    """Submissions still being filled in (draft or returned) that are not complete."""
    submissions = campaign.submissions.filter(status__in=[Submission.Status.DRAFT, Submission.Status.RETURNED])
    if region_ids is not None:
        submissions = submissions.filter(municipality__region_id__in=region_ids)
    submissions = list(submissions.select_related("municipality", "campaign"))
    done = progress([s.pk for s in submissions], campaign.methodology_id)
    return [s for s in submissions if done[s.pk]["done"] < done[s.pk]["total"]], done


@transaction.atomic
def reminders_send(*, campaign, region_ids=None, today=None):
    """E-mail the organizers (and deputies) of every laggard once a day at most; returns how many were sent."""
    now = timezone.now()
    today = today or timezone.localdate()
    late, done = laggards(campaign, region_ids)
    due = [s for s in late if not s.reminded_at or timezone.localtime(s.reminded_at).date() < today]
    people = organizers_of([s.municipality_id for s in due])
    for submission in due:
        deadline = submission.deadline()
        state = done[submission.pk]
        notify(
            people.get(submission.municipality_id, []),
            Notification.Kind.DEADLINE,
            _("Reminder: the forms of «%(campaign)s»") % {"campaign": campaign.title},
            _("%(municipality)s: %(done)s of %(total)s criteria are complete. Deadline: %(date)s.")
            % {
                "municipality": submission.municipality,
                "done": state["done"],
                "total": state["total"],
                "date": formats.date_format(deadline, "j E Y") if deadline else "—",
            },
            reverse("submission_detail", args=[campaign.slug, submission.municipality.code]),
        )
    Submission.objects.filter(pk__in=[s.pk for s in due]).update(reminded_at=now)
    return len(due)

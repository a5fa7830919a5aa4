"""The score sheet: every criterion's points and comment of one submission in one round, read from a form and
saved all or nothing through scores.score_set (the coordinator's pre-scoring page, the expert's review page,
the Excel import of pre-scores), and the rows such a page shows.

A form sends, per criterion code, `p-<code>` (the points typed), `c-<code>` (the comment) and `s-<code>` (the id
of the score the user was shown, blank for none): a score someone saved in between is a conflict, not
overwritten."""

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from assessment import scoring
from assessment.models import Attachment, Criterion, Score
from assessment.scores import ScoreError, evidence_remember, score_set
from surveys.models import MIN_GROUP
from surveys.stats import evidence_by_mechanism

SCORE_ID = re.compile(r"[0-9]{1,18}")


class SheetError(ScoreError):
    """Nothing was saved; `errors` says why per criterion code."""

    def __init__(self, errors):
        super().__init__(_("Nothing was saved: correct the marked criteria."))
        self.errors = errors


@dataclass(frozen=True)
class Posted:
    """One criterion as the form sent it."""

    points: str
    comment: str
    seen: str | None


def sheet_criteria(submission):
    return list(
        Criterion.objects.filter(mechanism__methodology=submission.campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )


def sheet_read(data, criteria):
    """{criterion code: Posted} of a submitted score sheet (a QueryDict or a dict)."""
    return {
        c.code: Posted(
            points=(data.get(f"p-{c.code}") or "").strip(),
            comment=data.get(f"c-{c.code}") or "",
            seen=data.get(f"s-{c.code}") or None,
        )
        for c in criteria
    }


def _seen(value):
    """The id of the score the user was shown: None when none was, ValueError for a damaged form."""
    value = (value or "").strip()
    if not value:
        return None
    if not SCORE_ID.fullmatch(value):
        raise ValueError(value)
    return int(value)


def _save_all(*, submission, round, items, by, access):
    """score_set for every (criterion, points, comment, seen), or SheetError with every refusal and no write."""
    errors = {}
    with transaction.atomic():
        for criterion, points, comment, seen in items:
            try:
                score_set(
                    submission=submission,
                    criterion=criterion,
                    round=round,
                    points=points,
                    comment=comment,
                    by=by,
                    access=access,
                    seen=seen,
                )
            except ScoreError as exc:
                errors[criterion.code] = exc.message
        if errors:
            raise SheetError(errors)


@transaction.atomic
def sheet_save(*, submission, round, posted, criteria, by, access):
    """Save what the form sent for every criterion (a criterion left blank and never scored is skipped), all or
    nothing: SheetError(errors by code) for a damaged field, points that are not a whole number from 0 to the
    maximum (scoring.points_from_text), or any refusal of score_set."""
    items, errors = [], {}
    for criterion in criteria:
        data = posted[criterion.code]
        if data.points == "" and data.seen is None:
            continue
        try:
            seen = _seen(data.seen)
        except ValueError:
            errors[criterion.code] = _("The form was sent damaged: reload the page and try again.")
            continue
        points = scoring.points_from_text(data.points, criterion.max_points)
        if points is None:
            errors[criterion.code] = _("Enter a whole number from 0 to %(max)s.") % {"max": criterion.max_points}
            continue
        items.append((criterion, points, data.comment, seen))
    try:
        _save_all(submission=submission, round=round, items=items, by=by, access=access)
    except SheetError as exc:
        errors.update(exc.errors)
    if errors:
        raise SheetError(errors)


def prescores_import(points, criteria, *, by, at, comment):
    """The coordinator's changed points from an Excel workbook as new pre-score rows, each linked to the one it
    replaces, with the evidence remembered as score_set does; one bulk statement per kind of row, whatever the
    number of sheets. `points`: {(submission, code): points or None}. The import has checked the role, the
    status and every value (excel_import), under the submissions' locks, before it calls this."""
    if not points:
        return
    submission_ids = {submission.pk for submission, _code in points}
    previous = {
        (s.submission_id, s.criterion.code): s
        for s in Score.objects.filter(
            submission_id__in=submission_ids, round=Score.Round.PRESCORE, is_current=True
        ).select_related("criterion")
    }
    replaced = [previous[(sub.pk, code)].pk for sub, code in points if (sub.pk, code) in previous]
    Score.objects.filter(pk__in=replaced).update(is_current=False)
    given = [(submission, code, value) for (submission, code), value in points.items() if value is not None]
    Score.objects.bulk_create(
        (
            Score(
                submission_id=submission.pk,
                criterion_id=criteria[code].pk,
                round=Score.Round.PRESCORE,
                points=value,
                comment=comment,
                by_id=by.pk,
                at=at,
                previous=previous.get((submission.pk, code)),
            )
            for submission, code, value in given
        ),
        batch_size=2000,
    )
    evidence_remember([(submission.pk, criteria[code].pk) for submission, code, _value in given])


# --- the rows a score sheet shows ------------------------------------------------------------------------------


@dataclass
class Sheet:
    mechanisms: dict  # mechanism -> [row]: criterion, answer, score, prescore, points, comment, error
    scores: dict  # criterion id -> the current score of the round shown as the user's
    survey: dict = field(default_factory=dict)  # mechanism code -> the schools' survey evidence
    min_group: int = MIN_GROUP

    @property
    def points(self):
        return {s.criterion.code: s.points for s in self.scores.values()}


def _answers(submission):
    return {
        a.criterion_id: a
        for a in submission.answers.prefetch_related(
            "links", Prefetch("attachments", queryset=Attachment.objects.filter(is_removed=False))
        )
    }


def _current(submission, round, by=None):
    scores = Score.objects.filter(submission=submission, round=round, is_current=True).select_related("by", "criterion")
    if by is not None:
        scores = scores.filter(by=by)
    return {s.criterion_id: s for s in scores}


def sheet_rows(submission, *, round, user, criteria, posted=None, errors=None):
    """The sheet of a round: the coordinator's sees the current pre-scores; an expert's their own scores and,
    unless the review is blind, the pre-score, offered as the points (saving it unchanged confirms it). What the
    form sent is shown again with the errors."""
    expert = round == Score.Round.EXPERT
    scores = _current(submission, round, by=user if expert else None)
    prescores = _current(submission, Score.Round.PRESCORE) if expert and not submission.campaign.blind_review else {}
    answers = _answers(submission)
    mechanisms = {}
    for c in criteria:
        score, prescore, sent = scores.get(c.pk), prescores.get(c.pk), (posted or {}).get(c.code)
        offered = score or prescore
        mechanisms.setdefault(c.mechanism, []).append(
            {
                "criterion": c,
                "answer": answers.get(c.pk),
                "score": score,
                "prescore": prescore,
                "points": sent.points if sent else (offered.points if offered else ""),
                "comment": sent.comment if sent else (score.comment if score else ""),
                "error": (errors or {}).get(c.code),
            }
        )
    return Sheet(mechanisms, scores, evidence_by_mechanism(submission))

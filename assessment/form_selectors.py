"""What the pages of the primary-data form show, read in a fixed number of queries: a submission's overview, a
mechanism page with its criterion blocks, and the region's table of forms. The writes are in collection.py;
what the viewer may do on these pages is decided by the views, through Access."""

from django.db.models import Count, Max, Prefetch
from django.utils import timezone

from assessment import collection, scores
from assessment.models import Attachment, Criterion, EvidenceLink, MechanismAnalysis, Result
from assessment.sites import link_tallies, on_authority_site, tally_of
from municipalities.models import MUNICIPAL_ROLES, Appointment


def mechanisms_with_progress(submission):
    """The methodology's mechanisms in order, each with its `progress`, and the submission's progress."""
    mechanisms = list(submission.campaign.methodology.mechanisms.order_by("order"))
    state = collection.progress([submission.pk], submission.campaign.methodology_id)[submission.pk]
    for mechanism in mechanisms:
        mechanism.progress = state["mechanisms"][mechanism.code]
    return mechanisms, state


def last_return(submission):
    """The latest return for corrections (its reason and the criteria to correct), or None."""
    return submission.status_changes.filter(new="returned").order_by("-at").first()


def submission_overview(submission):
    """The overview of one form: progress by mechanism, what keeps it from being sent, its evidence, its history
    and, once computed, its result with the explanation of every criterion's points."""
    campaign = submission.campaign
    mechanisms, state = mechanisms_with_progress(submission)
    links = list(EvidenceLink.objects.filter(answer__submission=submission).select_related("answer__criterion"))
    website = submission.municipality.website
    result = Result.objects.filter(submission=submission).order_by("pk").first()
    return {
        "submission": submission,
        "campaign": campaign,
        "mechanisms": mechanisms,
        "progress": state,
        "missing": collection.submission_missing(submission) if submission.is_editable else [],
        "link_count": len(links),
        "file_count": Attachment.objects.filter(answer__submission=submission, is_removed=False).count(),
        "problem_links": [link for link in links if link.is_problem],
        "off_site_links": [link for link in links if not on_authority_site(link.url, website)],
        "links_tally": tally_of(links, website),
        "history": submission.status_changes.select_related("by").order_by("-at"),
        "extensions": submission.extensions.select_related("granted_by"),
        "result": result,
        "explanation": scores.explain(submission) if result else None,
        "mechanism_titles": {m.code: m.short_title for m in mechanisms},
        "days_left": submission.days_left(),
        "deadline": submission.deadline(),
        "criteria_choices": Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)
        .select_related("component")
        .order_by("mechanism__order", "component__order"),
        "last_return": last_return(submission) if submission.status == "returned" else None,
    }


def _criterion_blocks(submission, mechanism, errors, posted):
    """One block per criterion of the mechanism: what was posted when a save was refused (so nothing typed is
    lost), else what is stored."""
    criteria = Criterion.objects.filter(mechanism=mechanism).select_related("component").order_by("component__order")
    answers = {
        a.criterion_id: a
        for a in submission.answers.filter(criterion__mechanism=mechanism).prefetch_related(
            "links", Prefetch("attachments", queryset=Attachment.objects.filter(is_removed=False))
        )
    }
    blocks = []
    for criterion in criteria:
        answer = answers.get(criterion.pk)
        links = list(answer.links.all()) if answer else []
        data = posted.get(criterion.code)
        blocks.append(
            {
                "criterion": criterion,
                "answer": answer,
                "description": data["description"] if data else (answer.description if answer else ""),
                "links_text": data["links"] if data else "\n".join(link.url for link in links),
                "complete": data["complete"] if data else bool(answer and answer.is_complete),
                "links": links,
                "files": list(answer.attachments.all()) if answer else [],
                "version": answer.version if answer else 0,
                "error": errors.get(criterion.code),
            }
        )
    return blocks


def mechanism_page(submission, mechanism, errors=None, posted=None):
    """A mechanism page: its criterion blocks (those named by the last return marked to fix), its analysis and the
    form's progress. `errors` and `posted` ({code: fields}) come back from a refused save."""
    errors = errors or {}
    blocks = _criterion_blocks(submission, mechanism, errors, posted or {})
    returned = last_return(submission)
    to_fix = set(returned.criteria) if returned and submission.status == "returned" else set()
    for block in blocks:
        block["to_fix"] = block["criterion"].code in to_fix
    analysis = MechanismAnalysis.objects.filter(submission=submission, mechanism=mechanism).first()
    mechanisms, state = mechanisms_with_progress(submission)
    return {
        "submission": submission,
        "campaign": submission.campaign,
        "mechanism": mechanism,
        "mechanisms": mechanisms,
        "blocks": blocks,
        "analysis": analysis,
        "analysis_error": errors.get("analysis"),
        "progress": state,
        "deadline": submission.deadline(),
        "days_left": submission.days_left(),
    }


def _region_submissions(campaign, region):
    """The region's forms in the campaign with their evidence counts and last edit, in one query."""
    return list(
        campaign.submissions.filter(municipality__region=region)
        .select_related("municipality")
        .annotate(
            link_count=Count("answers__links", distinct=True),
            last_edit=Max("answers__updated_at"),
        )
        .order_by("municipality__name")
    )


def _municipal_people(region):
    """{municipality id: [appointments]}: the organizers and deputies of the region's municipalities."""
    people = {}
    for appointment in (
        Appointment.objects.active()
        .filter(municipality__region=region, role__in=list(MUNICIPAL_ROLES))
        .select_related("user")
        .order_by("-role")
    ):
        people.setdefault(appointment.municipality_id, []).append(appointment)
    return people


def region_rows(campaign, region):
    """One row per municipality with status, progress, evidence (its links by what their checks found and how many
    are off the authority's site: `links`, a LinkTally) and contacts, in a fixed number of queries."""
    submissions = _region_submissions(campaign, region)
    files = dict(
        Attachment.objects.filter(answer__submission__in=submissions, is_removed=False)
        .values_list("answer__submission_id")
        .annotate(n=Count("pk"))
    )
    state = collection.progress([s.pk for s in submissions], campaign.methodology_id)
    tallies = link_tallies([s.pk for s in submissions])
    people = _municipal_people(region)
    today = timezone.localdate()
    for s in submissions:
        s.progress = state[s.pk]
        s.file_count = files.get(s.pk, 0)
        s.evidence_count = s.link_count + s.file_count
        s.links = tallies[s.pk]
        s.people = people.get(s.municipality_id, [])
        s.activity = max(filter(None, [s.last_activity_at, s.last_edit]), default=None)
        s.deadline_value = s.deadline()
        s.days = (s.deadline_value - today).days if s.deadline_value else None
        s.lagging = s.is_editable and s.progress["done"] < s.progress["total"]
    submissions.sort(key=lambda s: (s.municipality.kind != "city_district", s.municipality.name))
    return submissions

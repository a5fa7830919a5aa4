"""Writes that touch several rows or change a state. Keyword-only functions named <thing>_<action>."""

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from assessment.models import (
    CampaignStage,
    Component,
    Criterion,
    LevelBand,
    Mechanism,
    Methodology,
    Participation,
    Submission,
)
from surveys.services import questionnaires_copy


@transaction.atomic
def methodology_import(*, data):
    """Create a methodology from its JSON description (fixtures/methodology_*.json).

    Idempotent: an existing methodology with the same code is returned with its points, levels and texts
    unchanged, so `load_demo` can run any number of times and a methodology in use is never touched. Only what a
    file written later adds and scores nothing is filled in where it is still empty: the note on which figures
    are the platform's calibration, and the link to the previous version ("previous": its code)."""
    previous = _previous_version(data)
    existing = Methodology.objects.filter(code=data["code"]).first()
    if existing:
        _fill_in(existing, note=data.get("calibration_note", ""), previous=previous)
        return existing, False
    methodology = Methodology.objects.create(
        code=data["code"],
        title=data["title"],
        version=data.get("version", 1),
        max_total=data["max_total"],
        calibration_note=data.get("calibration_note", ""),
        previous=previous,
    )
    components = Component.objects.bulk_create(
        Component(
            methodology=methodology,
            order=c["order"],
            title=c["title"],
            description=c.get("description", ""),
        )
        for c in data["components"]
    )
    by_order = {c.order: c for c in components}
    LevelBand.objects.bulk_create(
        LevelBand(
            methodology=methodology,
            code=b["code"],
            min_share=Decimal(b["min_share"]),
            color=b["color"],
        )
        for b in data["levels"]
    )
    criteria = []
    for order, m in enumerate(data["mechanisms"], start=1):
        mechanism = Mechanism.objects.create(
            methodology=methodology,
            code=m["code"],
            block=m["block"],
            title=m["title"],
            short_title=m["short_title"],
            description=m.get("description", ""),
            order=order,
        )
        for c in m["criteria"]:
            component = by_order[c["component"]]
            criteria.append(
                Criterion(
                    mechanism=mechanism,
                    component=component,
                    code=f"{mechanism.code}.{component.order}",
                    max_points=c["max_points"],
                    guidance=c["guidance"],
                    evidence=c.get("evidence", ""),
                    recommendation=c.get("recommendation", ""),
                    evidence_required=c.get("evidence_required", True),
                )
            )
    Criterion.objects.bulk_create(criteria)
    errors = methodology.validation_errors()
    if errors:
        # Rolls back the whole import: a methodology that does not add up is never stored.
        raise ValueError("; ".join(str(e) for e in errors))
    return methodology, True


def _previous_version(data):
    code = data.get("previous")
    if not code:
        return None
    previous = Methodology.objects.filter(code=code).first()
    if previous is None:
        raise ValueError(
            _("The methodology «%(code)s» follows «%(previous)s», which is not loaded: import that one first.")
            % {"code": data["code"], "previous": code}
        )
    return previous


def _fill_in(methodology, *, note, previous):
    changes = {}
    if note and not methodology.calibration_note:
        changes["calibration_note"] = methodology.calibration_note = note
    if previous is not None and methodology.previous_id is None and previous.pk != methodology.pk:
        changes["previous"] = methodology.previous = previous
    if changes:
        Methodology.objects.filter(pk=methodology.pk).update(**changes)


def methodology_import_file(*, path):
    return methodology_import(data=json.loads(Path(path).read_text(encoding="utf-8")))


@transaction.atomic
def methodology_new_version(*, methodology, code=None, title=None):
    """Copy a (possibly locked) methodology into a new, editable version."""
    latest = Methodology.objects.filter(code__startswith=methodology.code.split("-v")[0]).order_by("-version").first()
    version = max(methodology.version, latest.version if latest else 0) + 1
    copy = Methodology.objects.create(
        code=code or f"{methodology.code.split('-v')[0]}-v{version}",
        title=title or methodology.title,
        version=version,
        max_total=methodology.max_total,
        calibration_note=methodology.calibration_note,
        previous=methodology,
    )
    components = {}
    for component in methodology.components.all():
        components[component.pk] = Component.objects.create(
            methodology=copy,
            order=component.order,
            title=component.title,
            description=component.description,
        )
    LevelBand.objects.bulk_create(
        LevelBand(methodology=copy, code=b.code, min_share=b.min_share, color=b.color)
        for b in methodology.level_bands.all()
    )
    criteria = []
    for mechanism in methodology.mechanisms.prefetch_related("criteria"):
        new_mechanism = Mechanism.objects.create(
            methodology=copy,
            code=mechanism.code,
            block=mechanism.block,
            title=mechanism.title,
            short_title=mechanism.short_title,
            description=mechanism.description,
            order=mechanism.order,
        )
        criteria.extend(
            Criterion(
                mechanism=new_mechanism,
                component=components[c.component_id],
                code=c.code,
                max_points=c.max_points,
                guidance=c.guidance,
                evidence=c.evidence,
                recommendation=c.recommendation,
                evidence_required=c.evidence_required,
            )
            for c in mechanism.criteria.all()
        )
    Criterion.objects.bulk_create(criteria)
    questionnaires_copy(source=methodology, target=copy)
    return copy


class CampaignError(Exception):
    pass


@transaction.atomic
def campaign_save(*, campaign, stages, municipalities, by, titles=None):
    """Create or update a campaign with its stage dates (and, with `titles`, the stages' titles in the campaign's
    documents; empty: the usual name) and participants; every participant gets its submission. A municipality that
    has already submitted cannot be taken out."""
    creating = campaign.pk is None
    if creating:
        campaign.created_by = by
    campaign.save()
    for stage, (start, end) in stages.items():
        defaults = {"starts_on": start, "ends_on": end}
        if titles is not None:
            defaults["title"] = titles.get(stage, "")
        CampaignStage.objects.update_or_create(campaign=campaign, stage=stage, defaults=defaults)
    wanted = {m.pk for m in municipalities}
    current = set(campaign.participations.values_list("municipality_id", flat=True))
    leaving = current - wanted
    if leaving:
        started = (
            Submission.objects.filter(campaign=campaign, municipality_id__in=leaving)
            .filter(~Q(status=Submission.Status.DRAFT) | Q(answers__isnull=False))
            .distinct()
        )
        names = ", ".join(s.municipality.name for s in started.select_related("municipality"))
        if names:
            raise CampaignError(
                _(
                    "These municipalities have already started filling in their forms and cannot leave the campaign: %(names)s."
                )
                % {"names": names}
            )
        Submission.objects.filter(campaign=campaign, municipality_id__in=leaving).delete()
        Participation.objects.filter(campaign=campaign, municipality_id__in=leaving).delete()
    Participation.objects.bulk_create(Participation(campaign=campaign, municipality_id=pk) for pk in wanted - current)
    submissions_ensure(campaign=campaign)
    # The caller reads the new dates from this instance: drop what it had cached or prefetched of the old ones.
    campaign.__dict__.pop("stage_dates", None)
    getattr(campaign, "_prefetched_objects_cache", {}).pop("stages", None)
    return campaign


def submissions_ensure(*, campaign):
    """Every participant has a submission (draft until its organizer sends it)."""
    have = set(campaign.submissions.values_list("municipality_id", flat=True))
    Submission.objects.bulk_create(
        Submission(campaign=campaign, municipality_id=pk)
        for pk in campaign.participations.values_list("municipality_id", flat=True)
        if pk not in have
    )


@transaction.atomic
def campaign_document_add(*, campaign, document):
    """Record a document of the campaign's basis (`document`: an unsaved CampaignDocument, validated by
    CampaignDocumentForm)."""
    document.campaign = campaign
    document.save()
    return document


@transaction.atomic
def campaign_document_remove(*, document):
    """Remove a document of the basis; its file goes once the removal is committed (a rolled-back removal keeps
    the file its row still names)."""
    stored = document.file.name if document.file else ""
    storage = document.file.storage
    document.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))

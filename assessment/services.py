"""Writes that touch several rows or change a state. Keyword-only functions named <thing>_<action>."""

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from assessment.models import Component, Criterion, LevelBand, Mechanism, Methodology


@transaction.atomic
def methodology_import(*, data):
    """Create a methodology from its JSON description (fixtures/methodology_*.json).

    Idempotent: an existing methodology with the same code is returned unchanged, so `load_demo` can
    run any number of times and a methodology in use is never touched."""
    existing = Methodology.objects.filter(code=data["code"]).first()
    if existing:
        return existing, False
    methodology = Methodology.objects.create(
        code=data["code"],
        title=data["title"],
        version=data.get("version", 1),
        max_total=data["max_total"],
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
    from surveys.services import questionnaires_copy

    questionnaires_copy(source=methodology, target=copy)
    return copy


class CampaignError(Exception):
    pass


@transaction.atomic
def campaign_save(*, campaign, stages, municipalities, by):
    """Create or update a campaign with its stage dates and participants; every participant gets its
    submission. A municipality that has already submitted cannot be taken out."""
    from assessment.models import CampaignStage, Participation, Submission

    creating = campaign.pk is None
    if creating:
        campaign.created_by = by
    campaign.save()
    for stage, (start, end) in stages.items():
        CampaignStage.objects.update_or_create(
            campaign=campaign, stage=stage, defaults={"starts_on": start, "ends_on": end}
        )
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
    if hasattr(campaign, "stage_dates"):
        del campaign.stage_dates
    return campaign


def submissions_ensure(*, campaign):
    """Every participant has a submission (draft until its organizer sends it)."""
    from assessment.models import Submission

    have = set(campaign.submissions.values_list("municipality_id", flat=True))
    Submission.objects.bulk_create(
        Submission(campaign=campaign, municipality_id=pk)
        for pk in campaign.participations.values_list("municipality_id", flat=True)
        if pk not in have
    )

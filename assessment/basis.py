"""Who sees which documents of a campaign's basis: a federal letter (no region) everyone who sees the campaign, a
region's own order that region's people and the national roles. One place for the campaign page, its basis
page, the API and the regional report."""

from django.db.models import Q

from assessment.models import CampaignDocument


def documents_visible(access):
    documents = CampaignDocument.objects.select_related("region")
    if access.is_national:
        return documents
    regions = access.municipalities().values("region_id")
    return documents.filter(
        Q(region__isnull=True) | Q(region_id__in=regions) | Q(region_id__in=access.coordinated_region_ids)
    )


def basis_for(access, campaign):
    return documents_visible(access).filter(campaign=campaign)


def basis_of_region(campaign, region):
    """The documents a region's report names: the federal ones and the region's own."""
    return campaign.basis.filter(Q(region__isnull=True) | Q(region=region))


def can_edit_document(access, document):
    """The operator any document (a federal one has no region), a coordinator their region's."""
    return access.can_manage_region(document.region_id)

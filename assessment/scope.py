"""What of the assessment a user may see, built on municipalities.access: one place for campaigns and
submissions, so that "not yours" is a 404 everywhere."""

from django.db.models import Q

from assessment.models import Campaign, Participation, ReviewAssignment, Submission


def campaigns_for(access):
    if access.is_national or access.is_expert:
        return Campaign.objects.all()
    return Campaign.objects.filter(
        pk__in=Participation.objects.filter(municipality__in=access.municipalities()).values("campaign")
    )


def submissions_for(access):
    if access.is_national:
        return Submission.objects.all()
    visible = Q(municipality__in=access.municipalities())
    if access.is_expert:
        # An expert sees exactly the submissions assigned to them.
        visible |= Q(
            pk__in=ReviewAssignment.objects.filter(expert_id=access.user_id, is_active=True).values("submission")
        )
    return Submission.objects.filter(visible)


def materials_for(access, campaign):
    materials = campaign.materials.filter(is_removed=False)
    if access.is_national:
        return materials
    regions = access.municipalities().values("region_id")
    return materials.filter(
        Q(region__isnull=True) | Q(region_id__in=regions) | Q(region_id__in=access.coordinated_region_ids)
    )


def can_edit_material(access, material):
    """The operator any material (a national one has no region), a coordinator their region's."""
    return access.can_manage_region(material.region_id)

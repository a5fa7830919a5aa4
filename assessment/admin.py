from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from assessment.models import (
    Campaign,
    CampaignStage,
    Component,
    Criterion,
    LevelBand,
    Mechanism,
    Methodology,
    Participation,
)
from assessment.services import methodology_new_version


class LockedWhenInUse:
    """A methodology used by a campaign is shown read-only; the models refuse the write anyway."""

    def _locked(self, obj):
        methodology = getattr(obj, "methodology", None) or getattr(getattr(obj, "mechanism", None), "methodology", None)
        methodology = methodology or (obj if isinstance(obj, Methodology) else None)
        return bool(methodology and methodology.is_locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and self._locked(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and self._locked(obj))


class ComponentInline(LockedWhenInUse, admin.TabularInline):
    model = Component
    extra = 0


class LevelBandInline(LockedWhenInUse, admin.TabularInline):
    model = LevelBand
    extra = 0


@admin.register(Methodology)
class MethodologyAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["title", "code", "version", "max_total", "locked"]
    inlines = [ComponentInline, LevelBandInline]
    actions = ["new_version"]

    @admin.display(boolean=True, description=_("used by a campaign"))
    def locked(self, obj):
        return obj.is_locked

    @admin.action(description=_("Create a new editable version"))
    def new_version(self, request, queryset):
        for methodology in queryset:
            copy = methodology_new_version(methodology=methodology)
            self.message_user(request, _("Created %(copy)s.") % {"copy": copy}, messages.SUCCESS)


class CriterionInline(LockedWhenInUse, admin.StackedInline):
    model = Criterion
    extra = 0
    fields = [
        "code",
        "component",
        "max_points",
        "evidence_required",
        "guidance",
        "evidence",
        "recommendation",
    ]


@admin.register(Mechanism)
class MechanismAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["code", "short_title", "methodology", "block"]
    list_filter = ["methodology", "block"]
    inlines = [CriterionInline]


@admin.register(Criterion)
class CriterionAdmin(LockedWhenInUse, admin.ModelAdmin):
    list_display = ["code", "component", "max_points", "evidence_required"]
    list_filter = ["mechanism__methodology", "mechanism", "component__order"]
    search_fields = ["code", "guidance"]
    list_select_related = ["component", "mechanism"]


class CampaignStageInline(admin.TabularInline):
    model = CampaignStage
    extra = 0


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["municipality"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "year", "methodology"]
    inlines = [CampaignStageInline, ParticipationInline]

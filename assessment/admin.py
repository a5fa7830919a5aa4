from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from assessment import dynamics
from assessment.dynamics import criterion_label, mapping_errors
from assessment.forms import CampaignDocumentForm
from assessment.models import (
    Campaign,
    CampaignDocument,
    CampaignStage,
    Component,
    Criterion,
    CriterionMapping,
    LevelBand,
    Measure,
    MeasurePlan,
    MeasurePlanChange,
    MeasureProgress,
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


class CampaignDocumentInline(admin.StackedInline):
    """The letters and orders the campaign runs under; the same checks as the coordinators' form."""

    model = CampaignDocument
    form = CampaignDocumentForm
    extra = 0
    fields = [("title", "order"), ("issuer", "number", "date"), "region", ("url", "file")]


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["municipality"]


class CampaignAdminForm(forms.ModelForm):
    """The admin refuses the same `previous` as the campaign form (dynamics.previous_errors: the one rule)."""

    class Meta:
        model = Campaign
        fields = [
            "slug",
            "title",
            "year",
            "methodology",
            "previous",
            "experts_per_submission",
            "blind_review",
            "reconcile_points",
            "reconcile_share",
        ]

    def clean(self):
        cleaned = super().clean()
        errors = dynamics.previous_errors(self.instance, cleaned.get("previous"), year=cleaned.get("year"))
        if errors:
            self.add_error("previous", errors)
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ["title", "slug", "year", "previous", "methodology"]
    inlines = [CampaignStageInline, CampaignDocumentInline, ParticipationInline]


class CriterionMappingForm(forms.ModelForm):
    """Which criterion of a later methodology version continues one of an earlier version (dynamics.mapping_errors
    says what is refused, in the operator's language)."""

    class Meta:
        model = CriterionMapping
        fields = ["source", "target", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        criteria = Criterion.objects.select_related("mechanism__methodology", "component").order_by(
            "mechanism__methodology__version", "mechanism__methodology__code", "mechanism__order", "component__order"
        )
        for name in ("source", "target"):
            self.fields[name].queryset = criteria
            self.fields[name].label_from_instance = criterion_label

    def clean(self):
        cleaned = super().clean()
        errors = mapping_errors(cleaned.get("source"), cleaned.get("target"), pk=self.instance.pk)
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned


@admin.register(CriterionMapping)
class CriterionMappingAdmin(admin.ModelAdmin):
    """The operator's mapping of criteria between methodology versions: what the comparison of campaigns that used
    different versions compares (without a row, criteria of the same code correspond)."""

    form = CriterionMappingForm
    list_display = ["source_label", "target_label", "note"]
    list_filter = ["source__mechanism__methodology", "target__mechanism__methodology"]
    list_select_related = [
        "source__mechanism__methodology",
        "source__component",
        "target__mechanism__methodology",
        "target__component",
    ]
    search_fields = ["source__code", "target__code", "note"]

    @admin.display(description=_("criterion of the earlier version"), ordering="source__code")
    def source_label(self, obj):
        return criterion_label(obj.source)

    @admin.display(description=_("criterion of the later version"), ordering="target__code")
    def target_label(self, obj):
        return criterion_label(obj.target) if obj.target else _("no counterpart")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MeasureInline(ReadOnlyInline):
    model = Measure
    fields = ["order", "title", "responsible", "due_on", "status", "is_removed"]


class MeasurePlanChangeInline(ReadOnlyInline):
    model = MeasurePlanChange
    fields = ["at", "by", "old", "new", "reason"]


@admin.register(MeasurePlan)
class MeasurePlanAdmin(admin.ModelAdmin):
    """Plans of measures, to look at: they change only through their pages (assessment/measures.py keeps the rules:
    who, when, which criteria, which dates)."""

    list_display = ["municipality", "campaign", "status", "created_at", "decided_at"]
    list_filter = ["status", "campaign", "municipality__region"]
    list_select_related = ["municipality", "campaign"]
    search_fields = ["municipality__name", "municipality__code"]
    inlines = [MeasureInline, MeasurePlanChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MeasureProgress)
class MeasureProgressAdmin(admin.ModelAdmin):
    list_display = ["measure", "status", "by", "at", "original_name"]
    list_filter = ["status", "measure__plan__campaign"]
    list_select_related = ["measure", "by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from surveys.models import Invitation, Question, Questionnaire


class LockedWhenOpen:
    """A questionnaire whose survey has opened is shown read-only; the models refuse the write anyway."""

    def _locked(self, obj):
        questionnaire = getattr(obj, "questionnaire", None) or obj
        return bool(questionnaire and questionnaire.is_locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and self._locked(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and self._locked(obj))

    def has_add_permission(self, request, obj=None):
        args = (request, obj) if isinstance(self, admin.options.InlineModelAdmin) else (request,)  # inlines take obj
        return super().has_add_permission(*args) and not (obj and self._locked(obj))


class QuestionInline(LockedWhenOpen, admin.StackedInline):
    model = Question
    fk_name = "questionnaire"
    extra = 0
    fields = [
        ("code", "order", "mechanism", "kind", "required"),
        "text",
        "help",
        "choices",
        ("scale_labels", "positive_answer"),
        ("min_value", "max_value", "unit", "max_length"),
        ("depends_on", "depends_values"),
    ]


@admin.register(Questionnaire)
class QuestionnaireAdmin(LockedWhenOpen, admin.ModelAdmin):
    list_display = ["title", "role", "methodology", "locked"]
    list_filter = ["methodology", "role"]
    inlines = [QuestionInline]

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj):
        return obj.is_locked


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are created and used by the product, never edited by hand."""

    list_display = ["school", "role", "campaign", "completed"]
    list_filter = ["campaign", "role"]
    search_fields = ["school__name", "school__short_name"]
    exclude = ["token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin

from municipalities.models import Appointment, Municipality, Region, School


class MunicipalityInline(admin.TabularInline):
    model = Municipality
    fields = ["code", "name", "kind"]
    extra = 0
    show_change_link = True


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "quality_center"]
    search_fields = ["code", "name"]
    inlines = [MunicipalityInline]


class SchoolInline(admin.TabularInline):
    model = School
    fields = ["short_name", "name", "email", "is_active"]
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region", "kind", "authority_name"]
    list_filter = ["region", "kind"]
    search_fields = ["name", "code", "authority_name"]
    list_select_related = ["region"]
    inlines = [SchoolInline]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["short_name", "municipality", "email", "is_active"]
    list_filter = ["municipality__region", "is_active"]
    search_fields = ["name", "short_name", "email"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "municipality", "is_active", "created_at"]
    list_filter = ["role", "region", "is_active"]
    search_fields = [
        "user__username",
        "user__last_name",
        "user__email",
        "municipality__name",
    ]
    list_select_related = ["user", "region", "municipality"]
    autocomplete_fields = ["user", "municipality"]
    readonly_fields = ["created_at", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

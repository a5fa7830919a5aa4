from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

admin.site.site_header = admin.site.site_title = _("MUKO — administration")
admin.site.index_title = _("Platform data")

urlpatterns = [
    path("", include("municipalities.urls")),
    path("", include("assessment.urls")),
    path("", include("surveys.urls")),
    path("", include("reports.urls")),
    path("api/v1/", include("config.api_urls")),
    path("accounts/", include("municipalities.account_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

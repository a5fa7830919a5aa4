from django.urls import path

from municipalities import views

urlpatterns = [
    path("territory/", views.region_list, name="region_list"),
    path("territory/<str:code>/", views.region_detail, name="region_detail"),
    path("municipalities/<slug:code>/", views.municipality_detail, name="municipality_detail"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/resend/", views.people_resend, name="people_resend"),
]

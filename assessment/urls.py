from django.urls import path

from assessment import views

urlpatterns = [
    path("", views.home, name="home"),
    path("methodology/", views.methodology, name="methodology"),
    path("methodology/<slug:code>/", views.methodology, name="methodology_version"),
]

from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("preview/", views.preview, name="preview"),
    path("urge/", views.urge, name="urge"),
]

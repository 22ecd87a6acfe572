from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("calendar/liaison/<int:liaison_id>/", views.liaison_calendar, name="liaison_calendar"),
    path("calendar/plan/<int:plan_id>/", views.plan_calendar, name="plan_calendar"),
    path("tasks/<int:pk>.ics", views.task_ics, name="task_ics"),
    path("progress.xlsx", views.progress_report, name="progress_report"),
    path("exports/<uuid:pk>/", views.export_job, name="export_job"),
    path("exports/<uuid:pk>/status.json", views.export_job_status, name="export_job_status"),
    path("exports/<uuid:pk>/download/", views.export_job_download, name="export_job_download"),
]

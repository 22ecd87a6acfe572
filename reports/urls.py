from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("calendar/liaison/<int:liaison_id>/", views.liaison_calendar, name="liaison_calendar"),
    path("calendar/plan/<int:plan_id>/", views.plan_calendar, name="plan_calendar"),
    path("tasks/<int:pk>.ics", views.task_ics, name="task_ics"),
    path("progress.xlsx", views.progress_report, name="progress_report"),
    path("ledger.xlsx", views.ledger_report, name="ledger_report"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/agency/<int:agency_id>/", views.scorecard_agency, name="scorecard_agency"),
    path("documents/", views.documents, name="documents"),
    path("documents/notice/", views.issue_notice, name="issue_notice"),
    path("documents/bulletin/", views.issue_bulletin, name="issue_bulletin"),
    path("documents/<int:pk>.docx", views.document_download, name="document_download"),
    path("exports/<uuid:pk>/", views.export_job, name="export_job"),
    path("exports/<uuid:pk>/status.json", views.export_job_status, name="export_job_status"),
    path("exports/<uuid:pk>/download/", views.export_job_download, name="export_job_download"),
]

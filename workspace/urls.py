from django.urls import path

from . import link_views, views

app_name = "workspace"

urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("tasks/<int:pk>/extension/", views.request_extension, name="request_extension"),
    path("tasks/<int:pk>/review/", views.review_completion, name="review_completion"),
    path("tasks/<int:pk>/due-date/", views.change_due_date, name="change_due_date"),
    path("tasks/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("extensions/<int:pk>/decide/", views.decide_extension, name="decide_extension"),
    path("updates/<int:pk>/correct/", views.correct_update, name="correct_update"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("indicators/", views.indicators, name="indicators"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/bulk/", views.review_bulk, name="review_bulk"),
    path("profile/", views.profile, name="profile"),
    path("profile/display/", views.set_display, name="set_display"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    # One-click 签收 from a message: the token is the credential (workspace/links.py)
    path("a/<str:token>/", link_views.action_link, name="action_link"),
]

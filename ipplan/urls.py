from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from workspace.views import home

from .views import LoginView, PasswordResetConfirmView, healthz

admin.site.site_header = _("ipplan 计划督办系统")
admin.site.site_title = _("ipplan 督办")
admin.site.index_title = _("督办管理")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("reminders/", include("reminders.urls")),
    path("reports/", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Ahead of django.contrib.auth.urls: remaining attempts on the login page, a reset lifts a lockout.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("workspace.urls")),
    path("", home, name="home"),
]
# Nothing under MEDIA_ROOT is served as such, in DEBUG neither: plan source files, drafts and exports are
# fetched through views that ask the role policy (e.g. admin/tasks/plan/<id>/source/).

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("工作台")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .display import remember_at_login

        user_logged_in.connect(remember_at_login, dispatch_uid="workspace.display.remember_at_login")

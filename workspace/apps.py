from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("工作台")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .display import remember_at_login

        user_logged_in.connect(remember_at_login, dispatch_uid="workspace.display.remember_at_login")

        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save, pre_save

        from agencies.models import Liaison

        from . import links

        pre_save.connect(
            links.on_liaison_pre_save, sender=Liaison, dispatch_uid="workspace.links.liaison_pre"
        )
        post_save.connect(
            links.on_liaison_saved, sender=Liaison, dispatch_uid="workspace.links.liaison_saved"
        )
        post_delete.connect(
            links.on_liaison_deleted, sender=Liaison, dispatch_uid="workspace.links.liaison_del"
        )
        post_save.connect(links.on_user_saved, sender=get_user_model(), dispatch_uid="workspace.links.user")

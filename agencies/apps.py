from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_groups(sender, **kwargs) -> None:
    from .roles import ensure_role_groups

    ensure_role_groups()


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("单位管理")

    def ready(self) -> None:
        # After the last app migrates, so that every permission exists.
        post_migrate.connect(_ensure_groups, dispatch_uid="agencies.ensure_role_groups")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = _("提醒邮件")

    def ready(self):
        from . import checks  # noqa: F401 — registers the delivery settings check

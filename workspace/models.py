from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preferences(models.Model):
    """One user's display settings (我的设置). Read once per session: see ``workspace.display``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("用户")
    )
    large_text = models.BooleanField(
        _("大字版"), default=False, help_text=_("更大的文字和按钮、更强的对比度(长辈模式)。")
    )

    class Meta:
        verbose_name = _("个人设置")
        verbose_name_plural = _("个人设置")

    def __str__(self) -> str:
        return str(self.user)

"""Agencies (单位) that plans assign work to, their other spellings, and the liaisons who report for them."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class AgencyQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(is_confirmed=True)

    def in_jurisdiction(self, jurisdiction: str):
        return self.filter(jurisdiction=jurisdiction)


class AgencyManager(models.Manager.from_queryset(AgencyQuerySet)):
    def get_by_natural_key(self, jurisdiction: str, name: str) -> "Agency":
        return self.get(jurisdiction=jurisdiction, name=name)


class Agency(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("政府部门")
        GOVERNMENT = "government", _("人民政府/街镇")
        JUDICIAL = "judicial", _("司法机关")
        PARTY = "party", _("党委机构")
        INSTITUTION = "institution", _("事业单位/园区")
        ENTERPRISE = "enterprise", _("企业/社会组织")
        GROUP = "group", _("单位集合")
        OTHER = "other", _("其他")

    name = models.CharField(_("单位名称"), max_length=100, help_text=_("规范名称,如“区市场监管局”。"))
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    jurisdiction = models.CharField(
        _("行政区划"),
        max_length=50,
        blank=True,
        db_index=True,
        help_text=_("如 天津市、东丽区、亳州市、江津区。"),
    )
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    is_group = models.BooleanField(
        _("是否为单位集合"), default=False, help_text=_("如“各成员单位”“联席会议成员单位”,可列出其成员单位。")
    )
    members = models.ManyToManyField(
        "self", verbose_name=_("成员单位"), symmetrical=False, blank=True, related_name="groups"
    )
    is_confirmed = models.BooleanField(
        _("已确认"), default=True, help_text=_("导入时遇到的新单位名称为未确认,由牵头部门确认或合并。")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = AgencyManager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["jurisdiction", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "name"], name="agency_unique_name_per_jurisdiction"
            ),
        ]

    def __str__(self) -> str:
        if self.jurisdiction and not self.name.startswith(self.jurisdiction):
            return f"{self.name}({self.jurisdiction})"
        return self.name

    def natural_key(self) -> tuple[str, str]:
        return (self.jurisdiction, self.name)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class AgencyAliasManager(models.Manager):
    def get_by_natural_key(self, jurisdiction: str, agency_name: str, name: str) -> "AgencyAlias":
        return self.get(agency__jurisdiction=jurisdiction, agency__name=agency_name, name=name)


class AgencyAlias(models.Model):
    """Another spelling of an agency's name as it appears in documents (区市场监管局 / 江津区市场监管局 …)."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(_("别名"), max_length=100)

    objects = AgencyAliasManager()

    class Meta:
        verbose_name = _("单位别名")
        verbose_name_plural = _("单位别名")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="alias_unique_per_agency"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str, str, str]:
        return (*self.agency.natural_key(), self.name)

    natural_key.dependencies = ["agencies.agency"]


class Liaison(models.Model):
    """A user who reports for an agency (联络员). A user may serve several agencies."""

    class DigestFrequency(models.TextChoices):
        DAILY = "daily", _("每个工作日")
        WEEKLY = "weekly", _("每周一次")
        OFF = "off", _("不接收")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="liaisons"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="liaisons"
    )
    email = models.EmailField(_("联系邮箱"), help_text=_("提醒邮件发送到此地址。"))
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    digest_frequency = models.CharField(
        _("提醒邮件频率"), max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.DAILY
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("联络员")
        verbose_name_plural = _("联络员")
        ordering = ["agency__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="liaison_unique_user_agency"),
        ]
        indexes = [models.Index(Lower("email"), name="liaison_email_lower")]

    def __str__(self) -> str:
        name = f"{self.user.last_name}{self.user.first_name}".strip()  # 姓 then 名, no space
        return f"{name or self.user.get_username()} · {self.agency}"


class BureauProfile(models.Model):
    """Settings of one 督办人员 where several bureaus share an installation: the 行政区划 they import plans for
    (default: the installation's ``IPPLAN_JURISDICTION``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="bureau_profile",
    )
    jurisdiction = models.CharField(
        _("本局行政区划"), max_length=50, blank=True, help_text=_("导入计划时默认的行政区划,如 东丽区。")
    )

    class Meta:
        verbose_name = _("督办人员设置")
        verbose_name_plural = _("督办人员设置")

    def __str__(self) -> str:
        return f"{self.user.get_username()} · {self.jurisdiction or '—'}"

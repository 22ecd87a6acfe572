"""Agencies (单位) that plans assign work to, their other spellings, and the liaisons who report for them."""

import re
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
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
        return self.label(self.name, self.jurisdiction)

    @staticmethod
    def label(name: str, jurisdiction: str) -> str:
        """The agency as lists name it: with its 行政区划 unless the name already starts with it."""
        if jurisdiction and not name.startswith(jurisdiction):
            return f"{name}({jurisdiction})"
        return name

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


MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def normalize_mobile(value: str) -> str:
    """13812345678 from "138 1234 5678", "138-1234-5678" or "+86 13812345678"; other input is returned
    stripped, for the validator to refuse."""
    digits = re.sub(r"[\s-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def validate_mobile(value: str) -> None:
    if value and not MOBILE_RE.fullmatch(value):
        raise ValidationError(
            _("“%(value)s”不是有效的中国大陆手机号码:应为以 13–19 开头的 11 位数字。"),
            params={"value": value},
            code="invalid_mobile",
        )


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
    # Channels besides email (reminders/services/fanout.py): the same reminders, once per channel.
    mobile = models.CharField(
        _("手机号码"),
        max_length=11,
        blank=True,
        validators=[validate_mobile],
        help_text=_("接收短信提醒的中国大陆手机号码,如 13812345678。"),
    )
    notify_sms = models.BooleanField(_("短信提醒"), default=False, help_text=_("同时以短信发送提醒概要。"))
    notify_robot = models.BooleanField(
        _("群机器人提醒"),
        default=True,
        help_text=_("同时推送到本单位的企业微信/钉钉工作群(由督办部门为单位设置群机器人)。"),
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

    def clean(self):
        super().clean()
        if self.notify_sms and not self.mobile:
            raise ValidationError({"mobile": _("开启短信提醒需要填写手机号码。")})


class AgencyRobot(models.Model):
    """An agency's work-group robot (企业微信 or 钉钉): reminders of the agency are posted there too, once per
    robot and reminder (reminders/services/fanout.py). Set by the lead bureau in the admin."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")

    # The vendor's host, path and the query parameter that carries the robot's key.
    ENDPOINTS = {
        Kind.WECOM: ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"),
        Kind.DINGTALK: ("oapi.dingtalk.com", "/robot/send", "access_token"),
    }

    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="robots"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, help_text=_("便于识别,如“区金融局工作群”。"))
    webhook_url = models.CharField(
        _("Webhook 地址"),
        max_length=300,
        help_text=_(
            "在群设置中添加机器人后复制的地址。企业微信:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…;"
            "钉钉:https://oapi.dingtalk.com/robot/send?access_token=…"
        ),
    )
    secret = models.CharField(
        _("加签密钥"),
        max_length=100,
        blank=True,
        help_text=_("钉钉机器人安全设置中“加签”一栏以 SEC 开头的密钥;企业微信机器人不需要。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("单位群机器人")
        verbose_name_plural = _("单位群机器人")
        ordering = ["agency__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "webhook_url"], name="robot_once_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.get_kind_display()})"

    @property
    def token(self) -> str:
        """The robot's key (企业微信) or access_token (钉钉) from its webhook address."""
        _host, _path, param = self.ENDPOINTS[self.Kind(self.kind)]
        return (parse_qs(urlsplit(self.webhook_url).query).get(param) or [""])[0]

    @property
    def masked_url(self) -> str:
        token = self.token
        if not token:
            return self.webhook_url
        return self.webhook_url.replace(token, mask(token))

    def clean(self):
        super().clean()
        self.webhook_url = (self.webhook_url or "").strip()
        self.secret = (self.secret or "").strip()
        if self.kind not in self.Kind.values:
            return  # the field's own error says so
        host, path, param = self.ENDPOINTS[self.Kind(self.kind)]
        label = self.Kind(self.kind).label
        parts = urlsplit(self.webhook_url)
        if parts.scheme != "https" or parts.hostname != host or parts.path != path:
            raise ValidationError(
                {
                    "webhook_url": _("%(label)s的地址应以 https://%(host)s%(path)s?%(param)s= 开头。")
                    % {"label": label, "host": host, "path": path, "param": param}
                }
            )
        token = (parse_qs(parts.query).get(param) or [""])[0]
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", token):
            raise ValidationError(
                {
                    "webhook_url": _("地址中缺少有效的 %(param)s 参数,请从群机器人设置中完整复制。")
                    % {"param": param}
                }
            )
        if self.kind == self.Kind.WECOM and self.secret:
            raise ValidationError({"secret": _("企业微信群机器人没有加签密钥,请留空。")})
        if (
            self.kind == self.Kind.DINGTALK
            and self.secret
            and not re.fullmatch(r"SEC[0-9a-f]{16,128}", self.secret)
        ):
            raise ValidationError(
                {"secret": _("钉钉加签密钥以 SEC 开头,后接字母数字,请从机器人安全设置中完整复制。")}
            )


def mask(secret: str) -> str:
    """The first and last 4 characters of a key, the rest hidden: enough to tell two robots apart."""
    if len(secret) <= 10:
        return "****"
    return f"{secret[:4]}****{secret[-4:]}"


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

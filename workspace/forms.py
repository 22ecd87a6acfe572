"""Forms validate input shape only; the rules (who, when, which state) live in workspace/services.py."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Liaison, normalize_mobile, validate_mobile
from reminders.models import NotificationPreference, ReminderLog
from reminders.services.notices import EMAIL_ALWAYS
from tasks.models import Task

from .services import MAX_ATTACHMENTS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ProgressForm(forms.Form):
    text = forms.CharField(
        label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000, strip=True
    )
    percent = forms.IntegerField(
        label=_("完成进度(%)"),
        min_value=0,  # adds its own validator: a second one would print the same error twice
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    status = forms.ChoiceField(
        label=_("报送后状态"),
        choices=[
            (Task.Status.IN_PROGRESS, Task.Status.IN_PROGRESS.label),
            (Task.Status.COMPLETION_REQUESTED, _("申请办结(请督办人员审核)")),
        ],
        initial=Task.Status.IN_PROGRESS,
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(
        label=_("附件"),
        required=False,
        # Formatted when shown, in the reader's language (not once at import, in the default one).
        help_text=lazy(
            lambda: (
                _("可选,最多 %(n)d 个;支持 PDF、图片、Word(.docx)、Excel(.xlsx)。") % {"n": MAX_ATTACHMENTS}
            ),
            str,
        )(),
    )


class CorrectionForm(forms.Form):
    text = forms.CharField(
        label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000, strip=True
    )
    percent = forms.IntegerField(label=_("完成进度(%)"), min_value=0, max_value=100)
    reason = forms.CharField(
        label=_("更正原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, strip=True
    )


# Several forms share a page (the task page has four), so each gets a prefix: field ids stay unique and a
# label's ``for`` finds its own field.


class ExtensionForm(forms.Form):
    prefix = "extension"

    requested_due_date = forms.DateField(label=_("申请延至"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecisionForm(forms.Form):
    """同意 / 不同意(退回), with a reason that the service requires when refusing."""

    decision = forms.ChoiceField(choices=[("approve", _("同意")), ("refuse", _("不同意"))])
    reason = forms.CharField(
        label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class DueDateForm(forms.Form):
    prefix = "due"

    due_date = forms.DateField(label=_("新的截止日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("调整原因"), max_length=500)


class ReassignForm(forms.Form):
    prefix = "reassign"

    agency = forms.ModelChoiceField(label=_("改由单位承办"), queryset=Agency.objects.none())
    reason = forms.CharField(label=_("调整原因"), max_length=500)

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        jurisdiction = task.measure.plan.jurisdiction
        agencies = Agency.objects.filter(is_group=False).exclude(tasks__measure_id=task.measure_id)
        if jurisdiction:
            agencies = agencies.filter(jurisdiction=jurisdiction)
        self.fields["agency"].queryset = agencies.order_by("name")


class IndicatorValueForm(forms.Form):
    indicator = forms.IntegerField(widget=forms.HiddenInput)
    year = forms.IntegerField(label=_("年度"), min_value=1990, max_value=2100)
    value = forms.CharField(label=_("数值"), max_length=50)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)


class DigestPreferenceForm(forms.Form):
    """One choice per agency the user reports for. Escalations to the lead bureau cannot be turned off."""

    def __init__(self, *args, liaisons, **kwargs):
        super().__init__(*args, **kwargs)
        self.liaisons = liaisons
        for liaison in liaisons:
            self.fields[f"digest_{liaison.pk}"] = forms.ChoiceField(
                label=liaison.agency.name,
                choices=Liaison.DigestFrequency.choices,
                initial=liaison.digest_frequency,
            )

    def choices(self) -> list[tuple[Liaison, str]]:
        return [(liaison, self.cleaned_data[f"digest_{liaison.pk}"]) for liaison in self.liaisons]


class ChannelPreferenceForm(forms.Form):
    """Reminders besides email, for every agency the user reports for: SMS to a mobile, and the agency's
    work-group robot (企业微信 / 钉钉, set up by the lead bureau)."""

    mobile = forms.CharField(
        label=_("手机号码"),
        required=False,
        max_length=20,
        help_text=_("中国大陆手机号码,如 13812345678。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    notify_sms = forms.BooleanField(label=_("短信提醒:同时以短信发送提醒概要"), required=False)
    notify_robot = forms.BooleanField(
        label=_("工作群提醒:同时推送到本单位的企业微信/钉钉工作群"), required=False
    )

    def __init__(self, *args, liaisons, sms_available: bool, **kwargs):
        first = liaisons[0] if liaisons else None
        initial = {
            "mobile": next((liaison.mobile for liaison in liaisons if liaison.mobile), ""),
            "notify_sms": any(liaison.notify_sms for liaison in liaisons),
            "notify_robot": first.notify_robot if first else True,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.sms_available = sms_available
        if not sms_available:
            self.fields["notify_sms"].disabled = True
            self.fields["notify_sms"].help_text = _("本系统尚未开通短信服务。")

    def clean_mobile(self):
        mobile = normalize_mobile(self.cleaned_data.get("mobile", ""))
        validate_mobile(mobile)
        return mobile

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("notify_sms") and not cleaned.get("mobile") and "mobile" not in self.errors:
            self.add_error("mobile", _("开启短信提醒需要填写手机号码。"))
        return cleaned


class DisplayForm(forms.Form):
    """大字版 (长辈模式) on or off; remembered per user."""

    large_text = forms.BooleanField(
        label=_("大字版(长辈模式)"),
        required=False,
        help_text=_("更大的文字和按钮、更强的对比度。在任何电脑或手机上登录都会保持。"),
    )


class NotificationPreferenceForm(forms.Form):
    """Per notification kind: email at once, in a daily digest or not at all, and whether it shows in 消息."""

    def __init__(self, *args, kinds: list[str], current: dict[str, NotificationPreference], **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind in kinds:
            label = ReminderLog.Kind(kind).label
            row = current.get(kind)
            self.fields[f"email_{kind}"] = forms.ChoiceField(
                label=label,
                choices=NotificationPreference.Email.choices,
                initial=row.email if row else NotificationPreference.Email.INSTANT,
            )
            if kind in EMAIL_ALWAYS:  # 催办 is an instruction: its email always goes out
                self.fields[f"email_{kind}"].disabled = True
                self.fields[f"email_{kind}"].initial = NotificationPreference.Email.INSTANT
            self.fields[f"inbox_{kind}"] = forms.BooleanField(
                label=_("站内消息"), required=False, initial=row.inbox if row else True
            )

    def rows(self):
        return [
            (ReminderLog.Kind(kind).label, self[f"email_{kind}"], self[f"inbox_{kind}"])
            for kind in self.kinds
        ]

    def choices(self) -> dict[str, tuple[str, bool]]:
        return {
            kind: (self.cleaned_data[f"email_{kind}"], self.cleaned_data[f"inbox_{kind}"])
            for kind in self.kinds
        }

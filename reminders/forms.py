from django import forms
from django.utils.translation import gettext_lazy as _


class PreviewForm(forms.Form):
    date = forms.DateField(
        label=_("提醒日期"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD,如 2024-09-30。")},
        widget=forms.DateInput(attrs={"type": "date"}),
    )

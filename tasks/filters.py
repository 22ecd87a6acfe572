"""The one FilterSet for task lists: it drives the pages and their exports alike ("export what I see")."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from agencies.roles import sees_all_tasks

from .models import Plan, Task
from .status import Light


class TaskFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_text")
    plan = django_filters.ModelChoiceFilter(
        label=_("计划"), field_name="measure__plan", queryset=Plan.objects.all()
    )
    agency = django_filters.ModelChoiceFilter(label=_("单位"), queryset=Agency.objects.all())
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Task.Status.choices)
    role = django_filters.ChoiceFilter(label=_("角色"), choices=Task.Role.choices)
    light = django_filters.ChoiceFilter(label=_("灯号"), choices=Light.choices, method="filter_light")
    due_after = django_filters.DateFilter(
        label=_("截止日期不早于"),
        field_name="due_date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_before = django_filters.DateFilter(
        label=_("截止日期不晚于"),
        field_name="due_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdue = django_filters.BooleanFilter(
        label=_("仅看逾期"), method="filter_overdue", widget=forms.CheckboxInput
    )
    ongoing = django_filters.BooleanFilter(
        label=_("仅看持续推进"), method="filter_ongoing", widget=forms.CheckboxInput
    )
    ordering = django_filters.OrderingFilter(
        label=_("排序"),
        fields=(
            ("due_date", "due_date"),
            ("status", "status"),
            ("measure__position", "number"),
            ("agency__name", "agency"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "due_date": _("截止日期"),
            "status": _("状态"),
            "measure__position": _("序号"),
            "agency__name": _("单位"),
            "updated_at": _("更新时间"),
        },
    )

    class Meta:
        model = Task
        fields = [
            "q",
            "plan",
            "agency",
            "status",
            "role",
            "light",
            "due_after",
            "due_before",
            "overdue",
            "ongoing",
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and not sees_all_tasks(user):
            # A liaison chooses only among their own agencies and the plans that concern them.
            mine = Agency.objects.filter(liaisons__user=user)
            self.filters["agency"].queryset = mine
            self.filters["plan"].queryset = Plan.objects.filter(measures__tasks__agency__in=mine).distinct()

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(measure__text__icontains=value) | Q(measure__number=value) | Q(agency__name__icontains=value)
        )

    def filter_light(self, queryset, name, value):
        if not value:
            return queryset
        if "light" not in queryset.query.annotations:
            queryset = queryset.with_light(timezone.localdate())
        return queryset.filter(light=value)

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_ongoing(self, queryset, name, value):
        return queryset.filter(is_ongoing=True) if value else queryset

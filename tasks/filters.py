"""The one FilterSet for task lists: it drives the pages and their exports alike ("export what I see")."""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from agencies.roles import sees_all_tasks

from .models import Measure, Plan, Task
from .status import YELLOW_DAYS, Light


class FastSelect(forms.Select):
    """A <select> whose options are joined in Python rather than rendered one template each: the agency
    filter of a city's list holds about a thousand agencies, and per-option templates cost the list more
    than all of its queries. Same markup as forms.Select (id, name, attributes, selected)."""

    def __init__(self, attrs=None, choices=(), *, label_fields: tuple[str, ...] = (), label=None):
        super().__init__(attrs, choices)
        # For a model choice field: the columns its options are labelled from and how (the model's __str__),
        # read with values_list instead of one model instance per option.
        self.label_fields, self.label = label_fields, label

    def option_pairs(self):
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None or not self.label_fields:
            yield from self.choices
            return
        field = self.choices.field
        if field.empty_label is not None:
            yield "", field.empty_label
        label = self.label or (lambda value: value)
        for pk, *values in queryset.values_list("pk", *self.label_fields):
            yield pk, label(*values)

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = {str(v) for v in self.format_value(value)}
        options = []
        for option_value, label in self.option_pairs():
            option_value = "" if option_value is None else str(option_value)
            selected = " selected" if option_value in chosen else ""
            options.append(
                f'<option value="{escape(option_value)}"{selected}>{conditional_escape(label)}</option>'
            )
        return mark_safe(f"<select{flatatt(final)}>{''.join(options)}</select>")  # noqa: S308 (escaped above)


SCOPE_OPEN = "open"
SCOPE_ALL = "all"
SCOPES = ((SCOPE_OPEN, _("未办结")), (SCOPE_ALL, _("全部(含已办结)")))


class TaskFilter(django_filters.FilterSet):
    """``default_scope``: what an empty 范围 means. The task list shows open tasks by default (a city's list is
    mostly work still to do, and the open set is what its indexes hold); exports default to every task, and
    the list's export link passes the list's scope explicitly, so an export holds what the list shows."""

    scope = django_filters.ChoiceFilter(
        label=_("范围"), choices=SCOPES, method="filter_scope", empty_label=_("默认"), widget=FastSelect
    )
    q = django_filters.CharFilter(label=_("搜索"), method="filter_text")
    # Lists and exports hold current tasks (tasks/status.py): of live plans only, so only those are offered.
    plan = django_filters.ModelChoiceFilter(
        label=_("计划"),
        field_name="measure__plan",
        queryset=Plan.objects.filter(is_active=True).order_by("-period_start", "title", "pk"),
        widget=FastSelect(label_fields=("title",)),
    )
    agency = django_filters.ModelChoiceFilter(
        label=_("单位"),
        queryset=Agency.objects.order_by("jurisdiction", "name", "pk"),
        widget=FastSelect(label_fields=("name", "jurisdiction"), label=Agency.label),
    )
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Task.Status.choices, widget=FastSelect)
    role = django_filters.ChoiceFilter(label=_("角色"), choices=Task.Role.choices, widget=FastSelect)
    light = django_filters.ChoiceFilter(
        label=_("灯号"), choices=Light.choices, method="filter_light", widget=FastSelect
    )
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
        widget=FastSelect,
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
            "scope",
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

    def __init__(self, *args, user=None, default_scope: str = SCOPE_ALL, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_scope = default_scope
        if user is not None and not sees_all_tasks(user):
            # A liaison chooses only among their own agencies and the plans that concern them.
            mine = Agency.objects.filter(liaisons__user=user)
            self.filters["agency"].queryset = mine.order_by("jurisdiction", "name", "pk")
            self.filters["plan"].queryset = self.filters["plan"].queryset.filter(
                pk__in=Measure.objects.filter(tasks__agency__in=mine).values("plan_id")
            )

    @property
    def qs(self):
        queryset = super().qs
        # An empty 范围 is not a filter django-filter runs: apply the default here (once; qs is cached).
        if not getattr(self, "_scoped", False):
            self._scoped = True
            if not self.form.is_bound or not self.form.is_valid() or not self.form.cleaned_data.get("scope"):
                queryset = self._apply_scope(queryset, self.default_scope)
                self._qs = queryset
        return queryset

    @property
    def effective_scope(self) -> str:
        """The 范围 the list applies (the explicit choice, else the default): export links carry it."""
        data = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        return data.get("scope") or self.default_scope

    def _apply_scope(self, queryset, scope):
        if scope != SCOPE_OPEN:
            return queryset
        # A status chosen explicitly (已办结 included) is what the user asked for: the scope yields to it.
        data = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        if data.get("status"):
            return queryset
        return queryset.open()

    def filter_scope(self, queryset, name, value):
        return self._apply_scope(queryset, value)

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
        today = timezone.localdate()
        if value == Light.RED:
            return queryset.overdue(today)  # the same rule, said so that the partial indexes serve it
        if "light" not in queryset.query.annotations:
            queryset = queryset.with_light(today)
        queryset = queryset.filter(light=value)
        if value == Light.YELLOW:
            # Implied by the light (attention date within the week); plain columns for the partial indexes.
            soon = today + datetime.timedelta(days=YELLOW_DAYS)
            queryset = queryset.filter(
                Q(is_ongoing=False, due_date__range=(today, soon))
                | Q(is_ongoing=True, next_report_due__range=(today, soon))
            )
        elif value == Light.GREY:
            queryset = queryset.filter(status=Task.Status.DONE)
        return queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_ongoing(self, queryset, name, value):
        return queryset.filter(is_ongoing=True) if value else queryset

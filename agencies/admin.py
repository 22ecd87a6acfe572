from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ImportExportModelAdmin
from import_export.widgets import ManyToManyWidget

from ipplan.lib.admin_exports import SafeExportMixin
from ipplan.lib.uploads import GatedImportForm

from .admin_policy import PolicyAdminMixin, restrict_third_party_admin
from .models import Agency, AgencyAlias, AgencyRobot, BureauProfile, Liaison, normalize_mobile
from .services import MergeError, merge_agencies


class AgencyResource(resources.ModelResource):
    name = fields.Field(attribute="name", column_name="单位名称")
    short_name = fields.Field(attribute="short_name", column_name="简称")
    jurisdiction = fields.Field(attribute="jurisdiction", column_name="行政区划")
    kind = fields.Field(attribute="kind", column_name="类别")
    is_group = fields.Field(attribute="is_group", column_name="单位集合")
    is_confirmed = fields.Field(attribute="is_confirmed", column_name="已确认")
    aliases = fields.Field(column_name="别名", readonly=True)
    members = fields.Field(
        attribute="members",
        column_name="成员单位",
        widget=ManyToManyWidget(Agency, field="name", separator="、"),
    )

    class Meta:
        model = Agency
        import_id_fields = ("jurisdiction", "name")
        fields = (
            "name",
            "short_name",
            "jurisdiction",
            "kind",
            "is_group",
            "is_confirmed",
            "aliases",
            "members",
        )
        export_order = (
            "name",
            "short_name",
            "jurisdiction",
            "kind",
            "is_group",
            "is_confirmed",
            "aliases",
            "members",
        )

    def dehydrate_aliases(self, agency: Agency) -> str:
        return "、".join(alias.name for alias in agency.aliases.all())


class AgencyAliasInline(PolicyAdminMixin, admin.TabularInline):
    model = AgencyAlias
    extra = 1


LIAISON_FIELDS = [
    "user",
    "agency",
    "email",
    "phone",
    "digest_frequency",
    "mobile",
    "notify_sms",
    "notify_robot",
]


class LiaisonForm(forms.ModelForm):
    """Accepts "138 1234 5678" or "+86 13812345678" and stores 13812345678."""

    class Meta:
        model = Liaison
        fields = LIAISON_FIELDS

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data.get("mobile", ""))


class LiaisonInline(PolicyAdminMixin, admin.TabularInline):
    model = Liaison
    form = LiaisonForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = [name for name in LIAISON_FIELDS if name != "agency"]


class AgencyRobotForm(forms.ModelForm):
    """The signing secret is never shown again once saved; left empty on a change, the saved one stays."""

    secret = forms.CharField(
        label=_("加签密钥"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "钉钉机器人安全设置中“加签”一栏以 SEC 开头的密钥;企业微信机器人不需要。修改时留空则保留原密钥。"
        ),
    )
    clear_secret = forms.BooleanField(label=_("清除加签密钥"), required=False)

    class Meta:
        model = AgencyRobot
        fields = ["agency", "kind", "name", "webhook_url", "secret", "is_active"]

    def _post_clean(self):
        if (
            self.instance.pk
            and not self.cleaned_data.get("secret")
            and not self.cleaned_data.get("clear_secret")
        ):
            self.cleaned_data["secret"] = AgencyRobot.objects.get(pk=self.instance.pk).secret
        super()._post_clean()


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Agency.objects.all(),
        label=_("合并到"),
        help_text=_("所选单位的任务、别名和联络员将并入该单位。"),
    )


class ReachFilter(admin.SimpleListFilter):
    """通知对象: the agencies holding open tasks that no reminder reaches (the dashboard's 投递问题 panel
    links here for the full list; reminders.services.reach decides)."""

    title = _("通知对象")
    parameter_name = "reach"

    def lookups(self, request, model_admin):
        return [("unreachable", _("无人可通知(有未办结任务)")), ("memberless", _("未指定成员单位的单位集合"))]

    def queryset(self, request, queryset):
        from reminders.services import reach

        if self.value() == "unreachable":
            return queryset.filter(pk__in=[gap.pk for gap in reach.unreachable_agencies()])
        if self.value() == "memberless":
            return queryset.filter(pk__in=[gap.pk for gap in reach.memberless_collectives()])
        return queryset


@admin.register(Agency)
class AgencyAdmin(PolicyAdminMixin, SafeExportMixin, ImportExportModelAdmin):
    resource_classes = [AgencyResource]
    import_form_class = GatedImportForm  # the upload gate: size, kind by content, zip bombs
    list_display = ["name", "short_name", "jurisdiction", "kind", "is_group", "is_confirmed", "task_count"]
    ordering = ["jurisdiction", "name"]
    list_filter = ["is_confirmed", "jurisdiction", "kind", "is_group", ReachFilter]
    search_fields = ["name", "short_name", "aliases__name", "jurisdiction"]
    list_editable = ["is_confirmed"]
    filter_horizontal = ["members"]
    inlines = [AgencyAliasInline, LiaisonInline]
    actions = ["merge_into", "confirm"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(task_total=Count("tasks", distinct=True))

    @admin.display(description=_("任务数"), ordering="task_total")
    def task_count(self, agency: Agency) -> int:
        return agency.task_total

    def save_related(self, request, form, formsets, change):
        from .services import fan_out_collective

        super().save_related(request, form, formsets, change)
        group = form.instance
        if group.is_group:  # members named or added: the group's tasks reach them too
            given = fan_out_collective(group=group)
            if given:
                self.message_user(
                    request,
                    _("已将“%(group)s”的任务分派给成员单位,共 %(n)d 项。")
                    % {"group": group.name, "n": given},
                    messages.SUCCESS,
                )

    @admin.action(description=_("确认所选单位"), permissions=["change"])
    def confirm(self, request, queryset):
        updated = queryset.update(is_confirmed=True)
        self.message_user(request, _("已确认 %(n)d 个单位。") % {"n": updated}, messages.SUCCESS)

    @admin.action(description=_("合并到另一单位…"), permissions=["change"])
    def merge_into(self, request, queryset):
        form = MergeForm(request.POST if "apply" in request.POST else None)
        form.fields["target"].queryset = Agency.objects.exclude(pk__in=queryset.values("pk"))
        if form.is_valid():
            target = form.cleaned_data["target"]
            totals = {"tasks": 0, "merged_tasks": 0, "aliases": 0, "liaisons": 0}
            try:
                for source in list(queryset):
                    for key, value in merge_agencies(source=source, target=target).items():
                        totals[key] += value
            except MergeError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                _(
                    "已合并到“%(target)s”:移交任务 %(tasks)d 项,合并重复任务 %(merged)d 项,别名 %(aliases)d 个,联络员 %(liaisons)d 名。"
                )
                % {
                    "target": target,
                    "tasks": totals["tasks"],
                    "merged": totals["merged_tasks"],
                    "aliases": totals["aliases"],
                    "liaisons": totals["liaisons"],
                },
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": _("合并单位"),
            "opts": self.model._meta,
            "agencies": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/agencies/agency/merge.html", context)


@admin.register(AgencyAlias)
class AgencyAliasAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name", "agency__name"]
    autocomplete_fields = ["agency"]


@admin.register(Liaison)
class LiaisonAdmin(PolicyAdminMixin, admin.ModelAdmin):
    form = LiaisonForm
    list_display = LIAISON_FIELDS
    list_filter = ["digest_frequency", "notify_sms", "notify_robot", "agency__jurisdiction"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "email", "agency__name"]
    autocomplete_fields = ["user", "agency"]


@admin.register(AgencyRobot)
class AgencyRobotAdmin(PolicyAdminMixin, admin.ModelAdmin):
    form = AgencyRobotForm
    list_display = ["name", "agency", "kind", "masked_webhook", "signed", "is_active"]
    list_filter = ["kind", "is_active", "agency__jurisdiction"]
    search_fields = ["name", "agency__name", "agency__short_name"]
    autocomplete_fields = ["agency"]
    actions = ["send_test"]

    @admin.display(description=_("Webhook 地址"))
    def masked_webhook(self, robot: AgencyRobot) -> str:
        return robot.masked_url

    @admin.display(description=_("加签"), boolean=True)
    def signed(self, robot: AgencyRobot) -> bool:
        return bool(robot.secret)

    @admin.action(description=_("发送测试消息"), permissions=["change"])
    def send_test(self, request, queryset):
        from reminders.services.channels import send_test_message

        for robot in queryset.select_related("agency")[:20]:
            ok, answer = send_test_message(robot)
            if ok:
                self.message_user(
                    request,
                    _("“%(robot)s”测试消息已送达:%(answer)s") % {"robot": robot, "answer": answer},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _("“%(robot)s”测试消息未送达:%(answer)s") % {"robot": robot, "answer": answer},
                    messages.ERROR,
                )


@admin.register(BureauProfile)
class BureauProfileAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "jurisdiction"]
    search_fields = ["user__username", "jurisdiction"]
    autocomplete_fields = ["user"]


# django_celery_beat and axes registered their admins before this module (INSTALLED_APPS order).
restrict_third_party_admin(admin.site)

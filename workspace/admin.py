from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.admin_policy import PolicyAdminMixin
from agencies.roles import can_write

from . import links
from .models import ActionLink


@admin.register(ActionLink)
class ActionLinkAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """The one-click 签收 links sent in messages: read-only (tokens are not stored, so never shown); the lead
    bureau revokes them. Rows stay as the record of what was sent and used."""

    list_display = ["created_at", "user", "task", "channel", "expires_at", "used_at", "state_display"]
    list_filter = ["channel", "revoked_reason", ("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "task__agency__name", "task__measure__text"]
    list_select_related = ["user", "task__measure", "task__agency"]
    raw_id_fields = ["user", "task"]
    date_hierarchy = "created_at"
    actions = ["revoke_selected"]
    fields = [
        "user",
        "task",
        "channel",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
        "revoked_reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The lead bureau revokes instead: the row records that a link was sent and whether it was used. A
        # superuser may delete (deleting a plan or a user takes its links with it).
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def has_revoke_permission(self, request) -> bool:
        return can_write(request.user)

    @admin.display(description=_("状态"))
    def state_display(self, link: ActionLink) -> str:
        return {
            "revoked": _("已撤销"),
            "expired": _("已过期"),
            "used": _("已使用"),
            "valid": _("有效"),
        }[link.state(timezone.now())]

    @admin.action(description=_("撤销所选链接"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        count = links.revoke(links=queryset.values_list("pk", flat=True), reason=ActionLink.Revoked.BY_HAND)
        self.message_user(request, _("已撤销 %(n)d 个链接。") % {"n": count}, messages.SUCCESS)

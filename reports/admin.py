from django.contrib import admin

from agencies.admin_policy import PolicyAdminMixin

from .models import CalendarFeed, ExportJob


@admin.register(CalendarFeed)
class CalendarFeedAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Lets the lead bureau see and revoke (delete) subscriptions; tokens are never shown."""

    list_display = ["__str__", "kind", "user", "created_at", "token_changed_at", "last_fetched_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "liaison__agency__name", "plan__title"]
    fields = ["kind", "user", "liaison", "plan", "created_at", "token_changed_at", "last_fetched_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "exporter", "status", "progress", "total_rows", "finished_at"]
    list_filter = ["status", "exporter"]
    fields = [
        "user",
        "exporter",
        "params",
        "language",
        "status",
        "progress",
        "total_rows",
        "filename",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

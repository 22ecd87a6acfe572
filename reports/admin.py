from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agencies.admin_policy import PolicyAdminMixin

from .models import SCORE_KEYS, CalendarFeed, ExportJob, IssuedDocument, ScoreWeights


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


@admin.register(ScoreWeights)
class ScoreWeightsAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """考核权重: one row the lead bureau edits; issued 通报 keep the weights they were computed with."""

    list_display = ["__str__", *SCORE_KEYS, "updated_at"]
    fields = list(SCORE_KEYS)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ScoreWeights.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        ScoreWeights.current()  # the row exists from the first visit on, holding the documented defaults
        return super().changelist_view(request, extra_context)


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["doc_number", "kind", "agency", "plan", "period", "issued_on", "reply_by", "issued_by"]
    list_select_related = ["agency", "plan", "issued_by"]
    list_filter = ["kind", "year"]
    search_fields = ["agency__name", "plan__title"]
    fields = [
        "kind",
        "year",
        "number",
        "agency",
        "plan",
        "period",
        "issued_on",
        "reply_by",
        "issued_by",
        "weights",
        "scores",
    ]
    readonly_fields = fields

    @admin.display(description=_("文号"), ordering="number")
    def doc_number(self, document: IssuedDocument) -> str:
        return document.doc_number

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # an issued document is a record (its number was used, the 通报 keeps what it printed)
        return request.user.is_superuser

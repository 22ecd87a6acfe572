"""The role policy (agencies/roles.py) applied to the admin: every ModelAdmin and inline of the project
mixes in ``PolicyAdminMixin``, so view, add, change, delete, import, export, actions (which ask the same
methods) and history all follow one rule. The scheduler's and lockout's admins are wrapped the same way."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from .roles import ADD, CHANGE, DELETE, EXPORT, IMPORT, SUPERUSER_ONLY_APPS, VIEW, admin_allows


class PolicyAdminMixin:
    """Ask the policy first; where it has no say (Django's own apps), fall back to model permissions."""

    def _policy(self, request, action: str) -> bool | None:
        return admin_allows(request.user, self.opts.app_label, action)

    def has_module_permission(self, request):
        verdict = self._policy(request, VIEW)
        return super().has_module_permission(request) if verdict is None else verdict

    def has_view_permission(self, request, obj=None):
        verdict = self._policy(request, VIEW)
        return super().has_view_permission(request, obj) if verdict is None else verdict

    def has_add_permission(self, request, *args, **kwargs):
        verdict = self._policy(request, ADD)
        return super().has_add_permission(request, *args, **kwargs) if verdict is None else verdict

    def has_change_permission(self, request, obj=None):
        verdict = self._policy(request, CHANGE)
        return super().has_change_permission(request, obj) if verdict is None else verdict

    def has_delete_permission(self, request, obj=None):
        verdict = self._policy(request, DELETE)
        return super().has_delete_permission(request, obj) if verdict is None else verdict

    # django-import-export
    def has_import_permission(self, request):
        verdict = self._policy(request, IMPORT)
        return super().has_import_permission(request) if verdict is None else verdict

    def has_export_permission(self, request):
        verdict = self._policy(request, EXPORT)
        return super().has_export_permission(request) if verdict is None else verdict

    # django-simple-history: a past version can be looked at, never saved back from the admin (a revert
    # would bypass the services that record who decided what, and why).
    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


def restrict_third_party_admin(site: admin.AdminSite) -> None:
    """Wrap the ModelAdmins that third-party apps registered (beat schedules, axes records) in the policy,
    which keeps them for superusers only. Called once, after those apps' admin modules were imported."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in SUPERUSER_ONLY_APPS or isinstance(model_admin, PolicyAdminMixin):
            continue
        cls = type(model_admin)
        site.unregister(model)
        site.register(model, type(cls.__name__, (PolicyAdminMixin, cls), {"__module__": __name__}))

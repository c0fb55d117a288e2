"""Who sees what in Django's admin, for every app's admin pages: the same rules as the API and
the console, from ``registry.permissions`` (the one visibility helper), not from Django's
per-model permissions.

Staff status is needed to log in; then model owners see their teams' rows, model risk and
auditors see every row, auditors change nothing. A row outside what a user may see is a 404,
the same answer as a row that does not exist, so that the admin does not confirm its existence.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from registry.permissions import has_role, visible_rows
from vocabulary.roles import AUDITOR, MODEL_OWNER, MODEL_RISK


def is_admin_reader(user: Any) -> bool:
    """May open the admin at all: active staff with a role that reads the inventory."""
    return (
        user.is_active
        and user.is_staff
        and any(has_role(user, r) for r in (MODEL_RISK, AUDITOR, MODEL_OWNER))
    )


class ScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows scoped by ``registry.permissions.visible_rows``; nothing is ever deleted here."""

    #: the lookup from this admin's rows to their MonitoredModel ("pk" for models themselves)
    model_path = "model"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_reader(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return visible_rows(request.user, super().get_queryset(request), model_path=self.model_path)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django redirects to the index with "does not exist"; a hidden row is simply not found.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"no {self.opts.verbose_name} with id {object_id!r}")
        return obj


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Rows written only by services (check runs, batches): read here, changed nowhere."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_reader(request.user)

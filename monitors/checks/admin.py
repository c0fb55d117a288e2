"""Check runs and their results in Django's admin: read-only, scoped to the models a user may see.

Runs change only through the pipeline, and every change is in the ledger, so nothing here adds,
changes or deletes. Who sees which run comes from ``registry.admin_access`` (the registry's one
visibility helper): model owners their teams' runs, model risk and auditors every run; a run
outside that is a 404, like a run that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from monitors.checks.models import (
    CheckRun,
    EventCorrelation,
    FeatureResult,
    Finding,
    MetricResult,
    StageRecord,
)
from registry.admin_access import ReadOnlyInline, ReadOnlyScopedAdmin


class StageInline(ReadOnlyInline):
    model = StageRecord
    fields = ("position", "name", "status", "reason", "duration_ms")


class FeatureInline(ReadOnlyInline):
    model = FeatureResult
    fields = (
        "feature",
        "segment",
        "test",
        "statistic",
        "p_value",
        "adjusted_p_value",
        "threshold",
        "effect_size",
        "drifted",
        "n_reference",
        "n_window",
    )


class MetricInline(ReadOnlyInline):
    model = MetricResult
    fields = ("stage", "feature", "metric", "value", "threshold", "flagged")


class EventInline(ReadOnlyInline):
    model = EventCorrelation
    fields = ("event", "drifted_features", "flagged_quality", "note")

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventCorrelation]:
        # each row links to its event: one join instead of one query per row
        return super().get_queryset(request).select_related("event")


class FindingSeenInline(ReadOnlyInline):
    model = Finding
    fk_name = "last_run"
    verbose_name_plural = "findings last seen in this run"
    fields = ("kind", "subject", "severity", "note", "numbers", "revision", "opened_at", "closed_at")


class FindingClosedInline(ReadOnlyInline):
    model = Finding
    fk_name = "closed_by_run"
    verbose_name_plural = "findings this run closed"
    fields = ("kind", "subject", "severity", "closed_reason", "run", "closed_at")


class OpenListFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("closed", "closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Finding]) -> QuerySet[Finding]:
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedAdmin):
    model_path = "model"
    list_display = (
        "id",
        "model",
        "version",
        "run_kind",
        "window_start",
        "kind",
        "subject",
        "severity",
        "revision",
        "opened_at",
        "closed_at",
    )
    list_select_related = ("model", "version", "version__model")
    list_filter = ("kind", "severity", OpenListFilter, ("model__team", admin.RelatedOnlyFieldListFilter))
    search_fields = ("model__slug", "subject")
    date_hierarchy = "window_end"


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyScopedAdmin):
    model_path = "model"
    list_display = (
        "id",
        "model",
        "version",
        "kind",
        "window_start",
        "window_end",
        "revision",
        "status",
        "late",
        "attempt",
        "drift_share",
        "finished_at",
    )
    # a version's name includes its model's slug
    list_select_related = ("model", "version", "version__model")
    # only the teams of the runs this user sees, and never a role group
    list_filter = ("status", "kind", "late", "origin", ("model__team", admin.RelatedOnlyFieldListFilter))
    search_fields = ("model__slug",)
    date_hierarchy = "window_end"
    inlines = (StageInline, FindingSeenInline, FindingClosedInline, FeatureInline, MetricInline, EventInline)

from django.contrib import admin

from monitors.checks.models import CheckRun, EventCorrelation, FeatureResult, MetricResult, StageRecord


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


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


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    """Read-only: runs change only through the pipeline, and every change is in the ledger."""

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
    list_filter = ("status", "kind", "late", "origin")
    search_fields = ("model__slug",)
    date_hierarchy = "window_end"
    inlines = (StageInline, FeatureInline, MetricInline, EventInline)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

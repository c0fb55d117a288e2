"""Stage 5, correlate: match the run's findings with recorded external events (a campaign, a
product launch, a pipeline change) that overlap its window, so the report can say "drift in
`age` in this window, which coincides with campaign X".

An event that coincides with drift or data-quality findings is raised as a
``correlation.event`` finding about ``event:<id>``; an event with nothing to attribute to it is
recorded as a correlation row only."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db.models import Count, Q

from monitors.checks.models import EventCorrelation, StageStatus
from monitors.checks.stages.base import Earlier, FindingDraft, StageOutcome
from registry.models import ExternalEvent

if TYPE_CHECKING:
    from monitors.checks.run_inputs import RunInputs

STAGE = "event_correlation"


def events_overlapping(*, model_id: int, start: object, end: object) -> list[ExternalEvent]:
    """Events that touch [start, end) and name this model, or name no model (the whole fleet)."""
    return list(
        ExternalEvent.objects.annotate(n_models=Count("affected_models"))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=start), starts_at__lt=end)
        .filter(Q(n_models=0) | Q(affected_models__id=model_id))
        .distinct()
        .order_by("starts_at", "pk")
    )


class EventCorrelationStage:
    name: ClassVar[str] = STAGE

    def run(self, inputs: RunInputs, earlier: Earlier) -> StageOutcome:
        events = events_overlapping(
            model_id=inputs.model_id, start=inputs.window_start, end=inputs.window_end
        )
        drift = earlier.get("univariate_drift")
        quality = earlier.get("data_quality")
        drifted = list(drift.findings.get("drifted_features", [])) if drift else []
        flagged = list(quality.findings.get("flagged_columns", [])) if quality else []

        rows = []
        raised = []
        for event in events:
            span = f"from {event.starts_at:%Y-%m-%d %H:%M}" + (
                f" to {event.ends_at:%Y-%m-%d %H:%M}" if event.ends_at else ", still running"
            )
            what = []
            if drifted:
                what.append("drift in " + ", ".join(f"`{f}`" for f in drifted))
            if flagged:
                what.append("data-quality issues in " + ", ".join(f"`{f}`" for f in flagged))
            note = (
                f"{' and '.join(what)} in this window coincide with {event.get_kind_display().lower()} "
                f'"{event.title}" ({span})'
                if what
                else f'{event.get_kind_display()} "{event.title}" ({span}) overlaps this window; '
                "no finding to attribute to it"
            )
            rows.append(
                EventCorrelation(event=event, drifted_features=drifted, flagged_quality=flagged, note=note)
            )
            if what:
                raised.append(
                    FindingDraft(
                        kind="correlation.event",
                        subject=f"event:{event.pk}",
                        numbers={
                            "event": event.pk,
                            "drifted_features": drifted,
                            "flagged_quality": flagged,
                        },
                        note=note,
                    )
                )
        findings = {
            "events": [e.pk for e in events],
            "notes": [r.note for r in rows],
            "unexplained_findings": bool((drifted or flagged) and not events),
        }
        return StageOutcome(
            status=StageStatus.SUCCEEDED,
            findings=findings,
            event_correlations=tuple(rows),
            raised=tuple(raised),
        )

"""When a check is due, and when it is late or missed: one answer for the whole checks core.

A window of a plan's grid is *due* once it has closed and, for ``performance``, once the plan's
label maturity has passed as well (labels arrive after the predictions they score). Its
*deadline* is the due time plus the plan's grace hours: a run finished after it is flagged late.
A window still unchecked ``missed_horizon()`` after its deadline is recorded ``missed``.

The sweep asks ``due_for`` when it writes a run (and stores both instants on the row); the
reconciler asks the stored ``Due`` whether a run left behind has passed the horizon. Coverage
("which windows should have a run by now, and which are overdue") is to use the same function,
so that the three never disagree about a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from monitors.checks.models import RunKind
from monitors.checks.windows import Window

if TYPE_CHECKING:
    from monitors.checks.models import CheckRun
    from registry.models import MonitoringPlan


@dataclass(frozen=True)
class Due:
    due_at: datetime  # the window's end, plus label maturity for performance
    deadline: datetime  # due_at plus the plan's grace

    def late(self, now: datetime) -> bool:
        """A run (or a window still unrun) at ``now`` is past its deadline."""
        return now > self.deadline

    def missed(self, now: datetime, *, horizon: timedelta) -> bool:
        """At ``now`` the window is past the missed horizon: it is recorded, no longer checked."""
        return now > self.deadline + horizon


def missed_horizon() -> timedelta:
    """How long after its deadline an unchecked window is given up as missed (a setting)."""
    return timedelta(hours=settings.FLEETWATCH_CHECK_MISSED_HORIZON_HOURS)


def maturity_for(plan: MonitoringPlan, kind: str) -> timedelta:
    """How long after a window closes it becomes due: the label maturity for performance (its
    labels must have arrived), nothing for drift."""
    if kind == RunKind.PERFORMANCE:
        return timedelta(days=plan.label_maturity_days)
    return timedelta(0)


def due_for(plan: MonitoringPlan, kind: str, window: Window) -> Due:
    """When the ``kind`` check of ``window`` under ``plan`` is due, and its deadline."""
    due_at = window.end + maturity_for(plan, kind)
    return Due(due_at=due_at, deadline=due_at + timedelta(hours=plan.grace_hours))


def due_of(run: CheckRun) -> Due:
    """The due time and deadline a run was scheduled with (stored on the row, so that a later
    change of plan does not move the deadline of a run already written)."""
    return Due(due_at=run.due_at, deadline=run.deadline)

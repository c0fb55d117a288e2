"""Window arithmetic: which [start, end) windows a plan defines, in its own time zone.

Windows are built from local calendar dates and only then turned into instants, so a window is
always whole local days, whatever daylight saving does in between (a day window across the spring
change is 23 hours long, across the autumn one 25). Alignment anchors them:

- ``day``: ``length`` consecutive days, counted from 1970-01-01 so the grid never moves;
- ``week``: ``round(length / 7)`` ISO weeks starting on a Monday (anchored on 1970-01-05);
- ``month``: ``round(length / 30.44)`` calendar months starting on the 1st, anchored on January
  (30 days -> monthly, 90 -> quarterly, 182 -> half-yearly).

Pure functions: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_EPOCH = date(1970, 1, 1)
_WEEK_EPOCH = date(1970, 1, 5)  # a Monday
_DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"empty window [{self.start}, {self.end})")

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        return start < self.end and (end is None or end > self.start)


@dataclass(frozen=True)
class WindowGrid:
    """The grid of one plan: a window length in days, an alignment and a time zone."""

    length_days: int
    alignment: str = "day"
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.length_days < 1:
            raise ValueError(f"window length must be at least one day, got {self.length_days}")
        if self.alignment not in ("day", "week", "month"):
            raise ValueError(f"unknown window alignment {self.alignment!r}")
        ZoneInfo(self.time_zone)  # raises for an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def units(self) -> int:
        """How many alignment units (days, weeks, months) one window spans."""
        if self.alignment == "week":
            return max(1, round(self.length_days / 7))
        if self.alignment == "month":
            return max(1, round(self.length_days / _DAYS_PER_MONTH))
        return self.length_days

    def local_midnight(self, day: date) -> datetime:
        return self._midnight(day)

    def _midnight(self, day: date) -> datetime:
        local = datetime.combine(day, time(0), tzinfo=self.zone)
        # A midnight skipped by a DST change (a few zones switch at 00:00) normalises to the first
        # instant of that day that exists.
        return local.astimezone(UTC)

    def _start_date_containing(self, day: date) -> date:
        if self.alignment == "day":
            offset = (day - _DAY_EPOCH).days
            return _DAY_EPOCH + timedelta(days=offset - offset % self.units)
        if self.alignment == "week":
            weeks = (day - _WEEK_EPOCH).days // 7
            return _WEEK_EPOCH + timedelta(weeks=weeks - weeks % self.units)
        months = day.year * 12 + day.month - 1
        months -= months % self.units
        return date(months // 12, months % 12 + 1, 1)

    def _next_start_date(self, start: date) -> date:
        if self.alignment == "day":
            return start + timedelta(days=self.units)
        if self.alignment == "week":
            return start + timedelta(weeks=self.units)
        months = start.year * 12 + start.month - 1 + self.units
        return date(months // 12, months % 12 + 1, 1)

    def containing(self, instant: datetime) -> Window:
        """The window that holds ``instant``."""
        local_day = instant.astimezone(self.zone).date()
        start_day = self._start_date_containing(local_day)
        window = Window(self._midnight(start_day), self._midnight(self._next_start_date(start_day)))
        if instant < window.start:  # only when a skipped midnight moved the start forward
            return self.containing(window.start - timedelta(microseconds=1))
        return window

    def following(self, window: Window) -> Window:
        start_day = window.end.astimezone(self.zone).date()
        return Window(window.end, self._midnight(self._next_start_date(start_day)))

    def closed_between(self, after: datetime, until: datetime) -> Iterator[Window]:
        """Windows that start at or after ``after`` and end at or before ``until``, oldest first."""
        window = self.containing(after)
        if window.start < after:
            window = self.following(window)
        while window.end <= until:
            yield window
            window = self.following(window)

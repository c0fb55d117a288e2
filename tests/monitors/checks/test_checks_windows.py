from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitors.checks.windows import Window, WindowGrid

LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_utc_window_runs_midnight_to_midnight():
    window = WindowGrid(1).containing(utc(2025, 3, 14, 15, 30))
    assert window == Window(utc(2025, 3, 14), utc(2025, 3, 15))


def test_a_day_in_london_across_the_spring_change_is_23_hours_long():
    # Clocks go forward at 01:00 UTC on 30 March 2025.
    window = WindowGrid(1, time_zone="Europe/London").containing(utc(2025, 3, 30, 12))
    assert window.start == datetime(2025, 3, 30, tzinfo=LONDON)
    assert window.start == utc(2025, 3, 30, 0)  # GMT before the change
    assert window.end == utc(2025, 3, 30, 23)  # midnight BST is 23:00 UTC
    assert window.end - window.start == timedelta(hours=23)


def test_a_day_in_london_across_the_autumn_change_is_25_hours_long():
    window = WindowGrid(1, time_zone="Europe/London").containing(utc(2025, 10, 26, 12))
    assert (window.start, window.end) == (utc(2025, 10, 25, 23), utc(2025, 10, 27, 0))
    assert window.end - window.start == timedelta(hours=25)


def test_new_york_days_follow_local_midnight_in_utc():
    window = WindowGrid(1, time_zone="America/New_York").containing(utc(2025, 7, 4, 3))
    # 03:00 UTC on 4 July is 23:00 on 3 July in New York (EDT, UTC-4).
    assert (window.start, window.end) == (utc(2025, 7, 3, 4), utc(2025, 7, 4, 4))


def test_a_zone_whose_clocks_skip_midnight_still_gives_contiguous_windows():
    # Santiago moved clocks from 00:00 to 01:00 on 7 September 2025 (local midnight does not exist).
    grid = WindowGrid(1, time_zone="America/Santiago")
    before = grid.containing(utc(2025, 9, 6, 12))
    after = grid.following(before)
    assert before.end == after.start
    assert after.start <= utc(2025, 9, 7, 5) < after.end


def test_seven_day_windows_sit_on_a_fixed_grid():
    grid = WindowGrid(7)
    first = grid.containing(utc(2025, 1, 8))
    assert first.end - first.start == timedelta(days=7)
    assert grid.containing(first.end) == grid.following(first)
    assert grid.containing(first.start + timedelta(days=3)) == first  # the grid never moves


def test_week_alignment_starts_windows_on_a_monday():
    window = WindowGrid(7, alignment="week").containing(utc(2025, 5, 15, 8))  # a Thursday
    assert window == Window(utc(2025, 5, 12), utc(2025, 5, 19))
    assert window.start.weekday() == 0


def test_month_alignment_follows_calendar_months_and_quarters():
    monthly = WindowGrid(30, alignment="month").containing(utc(2025, 2, 20))
    assert monthly == Window(utc(2025, 2, 1), utc(2025, 3, 1))
    quarter = WindowGrid(91, alignment="month").containing(utc(2025, 5, 20))
    assert quarter == Window(utc(2025, 4, 1), utc(2025, 7, 1))
    half = WindowGrid(182, alignment="month", time_zone="Europe/Paris").containing(utc(2025, 12, 31, 23, 30))
    # 23:30 UTC on 31 December is already 1 January in Paris (CET, UTC+1).
    assert half.start == datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/Paris"))


def test_closed_windows_are_listed_oldest_first_and_only_once_ended():
    grid = WindowGrid(1)
    windows = list(grid.closed_between(utc(2025, 1, 1, 9), utc(2025, 1, 4, 1)))
    # The window holding 09:00 on 1 January started before it: only whole windows after it count.
    assert [w.start.day for w in windows] == [2, 3]
    assert windows[-1].end == utc(2025, 1, 4)


def test_a_window_needs_aware_bounds_and_a_positive_length():
    with pytest.raises(ValueError, match="aware"):
        Window(datetime(2025, 1, 1), datetime(2025, 1, 2))
    with pytest.raises(ValueError, match="empty"):
        Window(utc(2025, 1, 2), utc(2025, 1, 1))
    with pytest.raises(ValueError, match="alignment"):
        WindowGrid(1, alignment="fortnight")

"""Errors a caller can cause. Messages name the column and what is wrong."""

from __future__ import annotations


class StatsError(ValueError):
    """Base class for every error the statistics engine raises on bad input."""


class StatsInputError(StatsError):
    """A column handed to the engine is unusable (wrong type, mixed types, missing)."""

    def __init__(self, column: str, message: str) -> None:
        self.column = column
        super().__init__(f"column `{column}`: {message}")


class StatsConfigError(StatsError):
    """A drift configuration or schema that cannot be applied."""


class ProfileFormatError(StatsError):
    """Bytes that are not a reference profile this code can read."""

"""The kinds of finding a check can raise, and the one severity scale they are ranked on.

One row per kind: its name (``<stage family>.<what was flagged>``), a one-line meaning and a
default severity. The playbook's stages raise only kinds listed here (a draft with another name
is refused), the ``Finding`` rows store the name, and decisions, reports and the console read
the meaning and rank by severity from this table, so that all of them agree on what a kind is.

Severities form one fixed scale, ``info < low < medium < high < critical``; ``severity_rank``
orders them (a higher rank is more severe).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

#: the scale, least severe first
SEVERITIES: Final = ("info", "low", "medium", "high", "critical")
_RANK: Final = MappingProxyType({name: rank for rank, name in enumerate(SEVERITIES)})


class UnknownFindingKind(ValueError):
    """A finding kind the table lacks."""


class UnknownSeverity(ValueError):
    """A severity that is not on the scale."""


def severity_rank(severity: str) -> int:
    """The position of ``severity`` on the scale: 0 for ``info`` up to 4 for ``critical``."""
    try:
        return _RANK[severity]
    except KeyError:
        raise UnknownSeverity(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}") from None


def most_severe(severities: list[str] | tuple[str, ...]) -> str | None:
    """The highest severity among ``severities`` (None for none)."""
    return max(severities, key=severity_rank) if severities else None


@dataclass(frozen=True)
class FindingKind:
    name: str
    meaning: str
    default_severity: str


_KINDS = (
    # data quality (stage ``data_quality``; subject: the column, or ``row_count``)
    FindingKind("data_quality.all_missing", "every value of a column is missing in the window", "high"),
    FindingKind(
        "data_quality.missing_in_non_nullable",
        "a column the schema declares non-nullable has missing values",
        "medium",
    ),
    FindingKind(
        "data_quality.missing_share",
        "a column's missing share exceeds the reference's by more than the plan's tolerance",
        "medium",
    ),
    FindingKind(
        "data_quality.out_of_range",
        "a column's share of values outside the schema's range or categories exceeds the tolerance",
        "medium",
    ),
    FindingKind(
        "data_quality.unseen_categories",
        "a column's share of categories the reference never saw exceeds the tolerance",
        "low",
    ),
    FindingKind(
        "data_quality.constant_column",
        "a column is constant in the window although the reference is not",
        "medium",
    ),
    FindingKind(
        "data_quality.row_count",
        "the window's row count is outside the expected range (ratio to the expected rows)",
        "medium",
    ),
    # data drift (stage ``univariate_drift``)
    FindingKind("drift.feature", "a feature's distribution drifted from the reference (one test)", "low"),
    FindingKind(
        "drift.segment",
        "the importance-weighted drift share within one segment is over the plan's threshold",
        "medium",
    ),
    FindingKind(
        "drift.share",
        "the importance-weighted share of drifted features is over the plan's threshold",
        "high",
    ),
    # correlate (stage ``event_correlation``; subject: ``event:<id>``)
    FindingKind(
        "correlation.event",
        "drift or data-quality findings in the window coincide with a recorded external event",
        "info",
    ),
)

#: every kind by name
FINDING_KINDS: Final = MappingProxyType({k.name: k for k in _KINDS})


def finding_kind(name: str) -> FindingKind:
    """The row for ``name``; ``UnknownFindingKind`` naming the fix if there is none."""
    try:
        return FINDING_KINDS[name]
    except KeyError:
        raise UnknownFindingKind(
            f"finding kind {name!r} is not in the table (vocabulary/findings.py): add it there "
            "with its meaning and default severity"
        ) from None

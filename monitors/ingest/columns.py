"""Typing a column as its schema declares, and counting what is wrong with its values.

A value that cannot be read as the declared type is structural (the batch is refused, naming
the rows); a value that reads fine but is odd — out of range, an unseen category, a null, NaN or
infinity — is data, counted here for the data-quality check to judge. Everything is vectorised
with Arrow compute; the only per-value work is locating bad values on the refusal path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from monitors.schemas import ColumnSpec

TIMESTAMP_TYPE = pa.timestamp("ns", tz="UTC")
ARROW_TYPES = {
    "numeric": pa.float64(),
    "categorical": pa.string(),
    "text": pa.string(),
    "boolean": pa.bool_(),
    "datetime": TIMESTAMP_TYPE,
}
MAX_LOCATED = 1000

# A subset of what Arrow's string-to-double cast accepts, so a match always casts.
_NUMBER = r"(?i)^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|nan|inf|infinity)$"
_ZONED = r"(Z|[+-]\d\d:?\d\d)$"
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


@dataclass(eq=False)
class BadValues(Exception):
    """Values of one column that are not of its type: 0-based positions within the chunk."""

    positions: tuple[int, ...]
    count: int
    complete: bool
    example: str | None
    expected: str


def arrow_type(kind: str) -> pa.DataType:
    return ARROW_TYPES[kind]


def cast_column(array: pa.Array | pa.ChunkedArray, spec: ColumnSpec) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    target = ARROW_TYPES[spec.kind]
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), type=target)
    if pa.types.is_string(array.type):
        return _from_strings(array, spec.kind)
    if spec.kind == "numeric":
        if (
            pa.types.is_integer(array.type)
            or pa.types.is_floating(array.type)
            or pa.types.is_decimal(array.type)
            or pa.types.is_boolean(array.type)
        ):
            return array.cast(pa.float64(), safe=False)
    elif spec.kind in ("categorical", "text"):
        if pa.types.is_boolean(array.type):
            return pc.if_else(array, "true", "false")
        try:
            return array.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    elif spec.kind == "boolean":
        if pa.types.is_boolean(array.type):
            return array
        if pa.types.is_integer(array.type):
            valid = pc.is_in(array, value_set=pa.array([0, 1], type=array.type))
            _raise_where(pc.and_(pc.is_valid(array), pc.invert(valid)), array, "a boolean (0 or 1)")
            return pc.equal(array, pa.scalar(1, type=array.type))
    elif spec.kind == "datetime":
        if pa.types.is_timestamp(array.type):
            if array.type.tz is None:
                return _checked(
                    array,
                    lambda a: a.cast(pa.timestamp("ns")).cast(TIMESTAMP_TYPE),
                    "a timestamp in the supported range",
                )
            return _checked(array, lambda a: a.cast(TIMESTAMP_TYPE), "a timestamp in the supported range")
        if pa.types.is_date(array.type):
            return array.cast(pa.timestamp("ns")).cast(TIMESTAMP_TYPE)
    raise BadValues(
        positions=_first_valid(array),
        count=len(array) - array.null_count,
        complete=True,
        example=f"a column of type {array.type}",
        expected=_expected(spec.kind),
    )


def _expected(kind: str) -> str:
    return {
        "numeric": "a number",
        "boolean": "a boolean",
        "datetime": "a timestamp",
        "categorical": "a category",
        "text": "text",
    }[kind]


def _first_valid(array: pa.Array) -> tuple[int, ...]:
    positions = pc.indices_nonzero(pc.is_valid(array)).to_pylist()
    return tuple(positions[:MAX_LOCATED])


def _raise_where(mask: pa.Array, array: pa.Array, expected: str) -> None:
    mask = pc.fill_null(mask, False)
    count = pc.sum(mask).as_py() or 0
    if count:
        positions = tuple(pc.indices_nonzero(mask).to_pylist()[:MAX_LOCATED])
        raise BadValues(
            positions=positions,
            count=count,
            complete=True,
            example=_show(array[positions[0]].as_py()),
            expected=expected,
        )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_strings(array: pa.Array, kind: str) -> pa.Array:
    if kind in ("categorical", "text"):
        return array
    trimmed = pc.utf8_trim_whitespace(array)
    if kind == "numeric":
        ok = pc.match_substring_regex(trimmed, _NUMBER)
        _raise_where(pc.and_(pc.is_valid(trimmed), pc.invert(ok)), array, "a number")
        return _checked(trimmed, lambda a: a.cast(pa.float64()), "a number")
    if kind == "boolean":
        lowered = pc.utf8_lower(trimmed)
        is_true = pc.is_in(lowered, value_set=pa.array(_TRUE))
        is_false = pc.is_in(lowered, value_set=pa.array(_FALSE))
        _raise_where(
            pc.and_(pc.is_valid(lowered), pc.invert(pc.or_(is_true, is_false))),
            array,
            "a boolean (true/false, 1/0, yes/no)",
        )
        return pc.if_else(pc.is_valid(lowered), is_true, pa.scalar(None, type=pa.bool_()))
    return _checked(trimmed, _strings_to_timestamps, "an ISO 8601 timestamp")


def _strings_to_timestamps(strings: pa.Array) -> pa.Array:
    """ISO 8601; with a zone offset it is converted to UTC, without one it is taken as UTC."""
    zoned = pc.fill_null(pc.match_substring_regex(strings, _ZONED), False)
    null = pa.scalar(None, type=pa.string())
    with_zone = pc.if_else(zoned, strings, null).cast(TIMESTAMP_TYPE)
    without_zone = pc.if_else(zoned, null, strings).cast(pa.timestamp("ns")).cast(TIMESTAMP_TYPE)
    return pc.coalesce(with_zone, without_zone)


def _checked(array: pa.Array, convert: Callable[[pa.Array], pa.Array], expected: str) -> pa.Array:
    try:
        return convert(array)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    positions, complete = _locate(array, convert)
    if not positions:  # the whole column fails, though no single value does: report its first
        positions, complete = [0], False
    raise BadValues(
        positions=tuple(positions),
        count=len(positions),
        complete=complete,
        example=_show(array[positions[0]].as_py()),
        expected=expected,
    )


def _locate(array: pa.Array, convert: Callable[[pa.Array], pa.Array]) -> tuple[list[int], bool]:
    """Bisect to the values that fail: O(bad x log n) conversions, only on the refusal path."""
    bad: list[int] = []

    def visit(lo: int, hi: int) -> None:
        if len(bad) >= MAX_LOCATED or hi <= lo:
            return
        try:
            convert(array.slice(lo, hi - lo))
            return
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        if hi - lo == 1:
            bad.append(lo)
            return
        mid = (lo + hi) // 2
        visit(lo, mid)
        visit(mid, hi)

    visit(0, len(array))
    return bad, len(bad) < MAX_LOCATED


def quality_counts(array: pa.Array, spec: ColumnSpec) -> dict[str, int]:
    """Value-level problems in one chunk of a typed column."""
    nulls = array.null_count
    counts = {"nulls": nulls, "nulls_not_allowed": 0 if spec.nullable else nulls}
    if spec.kind == "numeric":
        counts["nan"] = _count(pc.is_nan(array))
        counts["inf"] = _count(pc.is_inf(array))
        counts["out_of_range"] = _out_of_range(array, spec.min_value, spec.max_value)
    elif spec.kind == "datetime":
        # Bounds are seconds since the epoch; compare in integer nanoseconds.
        ns = array.cast(pa.int64())
        low = None if spec.min_value is None else math.ceil(spec.min_value * 1e9)
        high = None if spec.max_value is None else math.floor(spec.max_value * 1e9)
        counts["out_of_range"] = _out_of_range(ns, low, high)
    elif spec.kind == "categorical" and spec.categories is not None:
        seen = _count(pc.is_in(array, value_set=pa.array(spec.categories, type=pa.string()), skip_nulls=True))
        counts["unseen_categories"] = len(array) - nulls - seen
    return counts


def _count(mask: pa.Array) -> int:
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)


def _out_of_range(values: pa.Array, low: float | int | None, high: float | int | None) -> int:
    total = 0
    if low is not None:
        total += _count(pc.less(values, low))
    if high is not None:
        total += _count(pc.greater(values, high))
    return total


def merge_counts(total: dict[str, dict[str, int]], column: str, counts: dict[str, int]) -> None:
    into = total.setdefault(column, {})
    for key, value in counts.items():
        into[key] = into.get(key, 0) + value

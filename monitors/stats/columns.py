"""Turning the column arrays callers pass into the arrays the tests use.

Accepted inputs, per feature kind (anything else raises ``StatsInputError`` naming the column,
the first offending row and what was expected):

numeric      float or integer arrays (NaN = missing); object arrays of numbers and None.
categorical  object arrays of ``str`` and None (NaN floats are also read as missing).
boolean      bool arrays; float or integer arrays of 0/1 (NaN = missing); object arrays of
             True/False (or 0/1) and None/NaN. Result: float64 0.0/1.0 with NaN for missing.
datetime     ``datetime64`` arrays of any unit, read as UTC (NaT = missing).
text         object arrays of ``str`` and None.

The conversions are vectorised: a dictionary lookup per value via ``map`` for strings, numpy
for everything else. Only the values that fail the fast path are looked at one by one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Mapping
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from monitors.stats.errors import StatsInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

MISSING = -1
_UNKNOWN = -2
NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOKEN_PATTERN = re.compile(r"\w+")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def as_array(name: str, values: Any) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise StatsInputError(name, f"expected a 1-D array, got shape {array.shape}")
    return array


def numeric_values(name: str, values: Any) -> FloatArray:
    array = as_array(name, values)
    kind = array.dtype.kind
    if kind in "fiu":
        out: FloatArray = array.astype(np.float64, copy=False)
        if np.isinf(out).any():
            row = int(np.flatnonzero(np.isinf(out))[0])
            raise StatsInputError(name, f"infinite value at row {row}; use NaN for missing")
        return out
    if kind == "O":
        result = np.empty(array.size, dtype=np.float64)
        for row, value in enumerate(array):
            if _is_missing(value):
                result[row] = np.nan
            elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool | np.bool_
            ):
                result[row] = float(value)
            else:
                raise StatsInputError(name, f"a numeric feature holds {_describe(value)} at row {row}")
        return numeric_values(name, result)
    raise StatsInputError(
        name, f"a numeric feature needs numbers (float64, NaN = missing), got dtype {array.dtype}"
    )


def boolean_values(name: str, values: Any) -> FloatArray:
    array = as_array(name, values)
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.float64)
    if kind in "fiu":
        out: FloatArray = array.astype(np.float64)
        bad = ~(np.isnan(out) | (out == 0.0) | (out == 1.0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise StatsInputError(
                name, f"a boolean feature holds {array[row].item()!r} at row {row}; expected 0 or 1"
            )
        return out
    if kind == "O":
        lookup: dict[Any, float] = {True: 1.0, False: 0.0, None: np.nan}
        result = np.fromiter(
            map(lookup.get, array, repeat(-1.0, array.size)), dtype=np.float64, count=array.size
        )
        for row in np.flatnonzero(result == -1.0).tolist():
            value = array[row]
            if _is_missing(value):
                result[row] = np.nan
            else:
                raise StatsInputError(
                    name,
                    f"a boolean feature holds {_describe(value)} at row {row}; expected True, False or None",
                )
        return result
    raise StatsInputError(name, f"a boolean feature cannot be read from dtype {array.dtype}")


def categorical_counts(name: str, values: Any) -> tuple[dict[str, int], int]:
    """Counts per category and the number of missing values (used to build profiles)."""
    array = as_array(name, values)
    if array.dtype.kind in "US":
        raise StatsInputError(
            name, f"pass categories as an object array of str and None, not dtype {array.dtype}"
        )
    if array.dtype.kind != "O":
        raise StatsInputError(
            name, f"a categorical feature needs str values (object array), got dtype {array.dtype}"
        )
    try:
        counts: Counter[Any] = Counter(array.tolist())
    except TypeError:  # an unhashable value (a list, a dict) among the categories
        row = next(i for i, v in enumerate(array) if not isinstance(v, Hashable))
        raise StatsInputError(
            name,
            f"a categorical feature holds {_describe(array[row])} at row {row}; "
            "expected str or None (mixed types)",
        ) from None
    out: dict[str, int] = {}
    missing = 0
    for value, count in counts.items():
        if isinstance(value, str):
            out[value] = count
        elif _is_missing(value):
            missing += count
        else:
            row = next(i for i, v in enumerate(array) if v is value or v == value)
            raise StatsInputError(
                name,
                f"a categorical feature holds {_describe(value)} at row {row}; "
                "expected str or None (mixed types)",
            )
    return out, missing


class CodedCategories:
    """Window values mapped onto the reference's category codes.

    ``codes``: index into the profile's labels, ``other_code`` for values lumped into the
    profile's "other" bucket, ``unseen_code`` for values the reference never had, ``MISSING``.
    """

    __slots__ = ("codes", "n_distinct_unseen", "n_unseen")

    def __init__(self, codes: IntArray, n_unseen: int, n_distinct_unseen: int) -> None:
        self.codes = codes
        self.n_unseen = n_unseen
        self.n_distinct_unseen = n_distinct_unseen


def categorical_codes(name: str, values: Any, lookup: Mapping[str, int], unseen_code: int) -> CodedCategories:
    array = as_array(name, values)
    if array.dtype.kind != "O":
        raise StatsInputError(
            name, f"a categorical feature needs str values (object array), got dtype {array.dtype}"
        )
    table: dict[Any, int] = dict(lookup)
    table[None] = MISSING
    try:
        codes = np.fromiter(
            map(table.get, array, repeat(_UNKNOWN, array.size)), dtype=np.int64, count=array.size
        )
    except TypeError:  # an unhashable value (a list, a dict) among the categories
        row = next(i for i, v in enumerate(array) if not isinstance(v, Hashable))
        raise StatsInputError(
            name,
            f"a categorical feature holds {_describe(array[row])} at row {row}; "
            "expected str or None (mixed types)",
        ) from None
    unknown_rows = np.flatnonzero(codes == _UNKNOWN)
    unseen: set[str] = set()
    n_unseen = 0
    for row in unknown_rows.tolist():
        value = array[row]
        if isinstance(value, str):
            codes[row] = unseen_code
            unseen.add(value)
            n_unseen += 1
        elif _is_missing(value):
            codes[row] = MISSING
        else:
            raise StatsInputError(
                name,
                f"a categorical feature holds {_describe(value)} at row {row}; "
                "expected str or None (mixed types)",
            )
    return CodedCategories(codes, n_unseen, len(unseen))


def datetime_ns(name: str, values: Any) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch (UTC); NaT stays ``np.iinfo(int64).min``."""
    array = as_array(name, values)
    if array.dtype.kind != "M":
        raise StatsInputError(
            name, f"a datetime feature needs datetime64 values (UTC), got dtype {array.dtype}"
        )
    out: npt.NDArray[np.int64] = array.astype("datetime64[ns]").view(np.int64)
    return out


NAT = np.iinfo(np.int64).min


def datetime_parts(ns: npt.NDArray[np.int64]) -> tuple[FloatArray, FloatArray, IntArray]:
    """(seconds since epoch, seconds since midnight UTC, day of week Mon=0) with NaN/-1 missing."""
    missing = ns == NAT
    days, into_day = np.divmod(ns, NS_PER_DAY)
    value = np.where(missing, np.nan, ns / NS_PER_SECOND)
    time_of_day = np.where(missing, np.nan, into_day / NS_PER_SECOND)
    # 1970-01-01 was a Thursday (index 3)
    weekday = np.where(missing, MISSING, (days + 3) % 7).astype(np.int64)
    return value, time_of_day, weekday


def text_parts(name: str, values: Any) -> tuple[FloatArray, list[list[str]]]:
    """Length in characters (NaN for missing) and lower-cased ``\\w+`` tokens of each row."""
    array = as_array(name, values)
    if array.dtype.kind != "O":
        raise StatsInputError(
            name, f"a text feature needs str values (object array), got dtype {array.dtype}"
        )
    lengths = np.empty(array.size, dtype=np.float64)
    tokens: list[list[str]] = []
    for row, value in enumerate(array):
        if isinstance(value, str):
            lengths[row] = len(value)
            tokens.append(TOKEN_PATTERN.findall(value.lower()))
        elif _is_missing(value):
            lengths[row] = np.nan
            tokens.append([])
        else:
            raise StatsInputError(
                name, f"a text feature holds {_describe(value)} at row {row}; expected str or None"
            )
    return lengths, tokens

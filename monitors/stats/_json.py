"""Conversion of result values to JSON-safe Python values.

Results are stored by the check pipeline and hashed into evidence, so a value that JSON cannot
carry faithfully (NaN, infinity, a numpy scalar) is converted here or refused loudly; it never
slips through as ``NaN`` in a payload.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None


def to_json(value: Any, *, where: str) -> JSONValue:
    """Return ``value`` as plain JSON data; raise ``ValueError`` on NaN or infinity."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return finite(value, where=where)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return finite(float(value), where=where)
    if isinstance(value, np.ndarray):
        return [to_json(v, where=where) for v in value.tolist()]
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        result: JSONValue = as_dict()
        return result
    if isinstance(value, Mapping):
        return {str(k): to_json(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, where=where) for v in value]
    raise TypeError(f"{where}: {type(value).__name__} is not JSON-serialisable")


def finite(value: float, *, where: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{where} is {value!r}; results carry None with a reason instead")
    return value


def optional_float(value: float | np.floating[Any] | None, *, where: str) -> float | None:
    """A finite float or None; NaN and infinity are refused."""
    if value is None:
        return None
    return finite(float(value), where=where)

"""Reading untrusted values field by field, collecting every error under its dotted path.

The model document, the events service and the admin read user input the same way: a
:class:`Reader` collects one sentence per wrong value (not only the first), and small parsers
(``string``, ``integer``, ``moment``, ...) normalise a value or raise :class:`InvalidValue` with
the sentence to show. It knows no schema; also here are the few value helpers every reader and
writer of documents shares (``content_sha256``, ``iso``, ``json_safe``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import re
import uuid
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import rfc8785
from django.utils.dateparse import parse_date, parse_datetime

from registry.documents.yaml_lines import join

# --- canonical content ------------------------------------------------------------------------


def content_sha256(content: Any) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of ``content`` (schemas, plans, policies)."""
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def json_safe(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC strings, UUIDs as strings, tuples as lists; the rest as is."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


# --- reading values ---------------------------------------------------------------------------


class DocumentInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class InvalidValue(ValueError):
    """One value is wrong; the message is the sentence to show after its path."""


_ABSENT: Any = object()


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ('{shown}')"
    if isinstance(value, dt.datetime | dt.date):
        return f"a date ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _choices(values: Iterable[str]) -> str:
    return ", ".join(v for v in values if v) or "(none)"


class Reader:
    """Collects errors while it reads; every ``get_*`` returns a normalised value or ``_ABSENT``
    when the value is missing or wrong (and the error is recorded)."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def mapping(
        self, value: Any, path: str, required: Iterable[str], optional: Iterable[str]
    ) -> dict[str, Any] | None:
        required, optional = tuple(required), tuple(optional)
        if not isinstance(value, dict):
            self.error(path or "(document)", f"expected a mapping, got {describe(value)}")
            return None
        allowed = required + optional
        for key in value:
            if not isinstance(key, str):
                self.error(join(path, str(key)), f"keys are names, got {describe(key)}")
            elif key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.error(join(path, key), f"unknown key{suggestion}; expected one of {', '.join(allowed)}")
        for key in required:
            if key not in value:
                self.error(join(path, key), "missing required key")
        return value

    def get(
        self, m: Mapping[str, Any], key: str, path: str, parse: Callable[[Any], Any], default: Any = _ABSENT
    ) -> Any:
        if key not in m:
            return default
        try:
            return parse(m[key])
        except InvalidValue as exc:
            self.error(join(path, key), str(exc))
            return _ABSENT


# Parsers: value -> normalised value, or raise InvalidValue with the sentence to show.


def string(
    *,
    max_length: int | None = None,
    blank: bool = True,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
) -> Callable[[Any], str]:
    def parse(value: object) -> str:
        if value is None and blank:
            return ""
        if not isinstance(value, str):
            raise InvalidValue(f"expected a string, got {describe(value)}")
        value = value.strip() if pattern else value
        if not value and not blank:
            raise InvalidValue("must not be empty")
        if max_length is not None and len(value) > max_length:
            raise InvalidValue(f"at most {max_length} characters, got {len(value)}")
        if pattern is not None and value and not pattern.match(value):
            raise InvalidValue(f"'{value}' is not valid{hint}")
        return value

    return parse


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_optional(value: Any) -> Any:
        return None if value is None or value == "" else parse(value)

    return parse_optional


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"expected true or false, got {describe(value)}")
    return value


def integer(*, minimum: int = 0, maximum: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise InvalidValue(f"expected a whole number, got {describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise InvalidValue(f"{value} is out of range: at least {minimum}{upper}")
        return int(value)

    return parse


def number(
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> Callable[[Any], float]:
    def parse(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue(f"expected a number, got {describe(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise InvalidValue(f"expected a finite number, got {value}")
        bounds = []
        if minimum is not None and value < minimum:
            bounds.append(f"at least {minimum}")
        if above is not None and value <= above:
            bounds.append(f"above {above}")
        if maximum is not None and value > maximum:
            bounds.append(f"at most {maximum}")
        if below is not None and value >= below:
            bounds.append(f"below {below}")
        if bounds:
            raise InvalidValue(f"{value} is out of range: must be {' and '.join(bounds)}")
        return value

    return parse


def choice(choices: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(choices)

    def parse(value: Any) -> str:
        if value is None and "" in allowed:
            return ""
        if not isinstance(value, str) or value not in allowed:
            shown = f"'{value}'" if isinstance(value, str) else describe(value)
            raise InvalidValue(f"{shown} is not one of {_choices(allowed)}")
        return value

    return parse


def moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    elif isinstance(value, str):
        try:
            day = parse_date(value.strip())
            parsed = (
                dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
                if day is not None
                else parse_datetime(value.strip())
            )
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidValue(f"'{value}' is not a date-time; write e.g. 2025-01-31T09:00:00Z")
    else:
        raise InvalidValue(f"expected a date-time, got {describe(value)}")
    assert parsed is not None
    if parsed.tzinfo is None:
        raise InvalidValue(f"{value} has no time zone; write e.g. 2025-01-31T09:00:00Z")
    return parsed.astimezone(dt.UTC)


def string_list(*, item: Callable[[Any], str], unique: bool = True) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidValue(f"expected a list, got {describe(value)}")
        result = []
        for index, entry in enumerate(value):
            try:
                result.append(item(entry))
            except InvalidValue as exc:
                raise InvalidValue(f"item {index}: {exc}") from None
        if unique and len(set(result)) != len(result):
            repeated = sorted({v for v in result if result.count(v) > 1})
            raise InvalidValue(f"repeats {', '.join(repeated)}")
        return result

    return parse


def time_zone(value: Any) -> str:
    name = string(max_length=64, blank=False)(value)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"'{name}' is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
    return name

"""Typed, loud readers for the environment.

Every setting that comes from the environment goes through one of these helpers, so a bad value
stops start-up with a message naming the variable instead of surfacing as a strange failure later.
Secrets may also come from ``NAME_FILE`` (Docker and Kubernetes secrets are mounted as files).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def envstr(name: str, default: str | None = None) -> str:
    """A string from ``NAME`` or the file named by ``NAME_FILE``; required when no default."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if value is not None and file_name is not None:
        raise ImproperlyConfigured(f"{name} and {name}_FILE are both set; set only one of them")
    if file_name is not None:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} is required but not set")
        return default
    return value


def envbool(name: str, default: str) -> bool:
    value = envstr(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true/false or 1/0")


def envint(name: str, default: str, *, minimum: int | None = None) -> int:
    raw = envstr(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below its minimum of {minimum}")
    return value


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value

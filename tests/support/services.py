"""Reaching the machine's real services; a missing one fails under CI and skips elsewhere."""

from __future__ import annotations

import os
import socket

import pytest

UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true"}
REDIS_URL = os.environ.get("FLEETWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def missing_service(reason: str) -> None:
    if UNDER_CI:
        pytest.fail(f"CI requires {reason}")
    pytest.skip(f"needs {reason}")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False

"""Fixtures of the loan world (see loan_world.py), shared by the stats tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitors.stats import ReferenceProfile, build_reference_profile
from tests.monitors.stats.loan_world import LOAN_SCHEMA, Columns, loan_columns


@pytest.fixture(scope="session")
def loan_reference() -> Columns:
    return loan_columns(6_000, seed=1)


@pytest.fixture(scope="session")
def loan_profile(loan_reference: Columns) -> ReferenceProfile:
    return build_reference_profile(loan_reference, LOAN_SCHEMA, segment_min_size=500)


@pytest.fixture
def make_window() -> Callable[..., Columns]:
    return loan_columns

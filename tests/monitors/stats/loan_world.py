"""A small world the stats tests share: a loan model's schema and a data generator.

Features: ``age`` (numeric, 18..100, key), ``income`` (numeric), ``country`` (categorical,
segment column), ``member`` (boolean), ``applied_at`` (datetime), ``note`` (text).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitors.stats import FeatureSpec, ProfileSchema

COUNTRIES = np.array(["DE", "FR", "NL", "PL"], dtype=object)
WORDS = np.array(["loan", "car", "home", "repair", "holiday", "study", "debt"], dtype=object)

LOAN_SCHEMA = ProfileSchema(
    features=(
        FeatureSpec("age", "numeric", min_value=18, max_value=100, importance=3.0, is_key=True),
        FeatureSpec("income", "numeric", importance=2.0),
        FeatureSpec("country", "categorical", is_segment=True),
        FeatureSpec("member", "boolean"),
        FeatureSpec("applied_at", "datetime"),
        FeatureSpec("note", "text", importance=0.5),
    ),
    expected_rows_per_day=1_000,
)

Columns = dict[str, np.ndarray[Any, Any]]


def loan_columns(
    n: int,
    seed: int,
    *,
    age_shift: float = 0.0,
    country_p: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1),
    start: str = "2024-03-04",
) -> Columns:
    rng = np.random.default_rng(seed)
    age = np.round(rng.normal(40 + age_shift, 12, n)).clip(18, 95)
    seconds = rng.integers(0, 28 * 86_400, n)
    applied = np.datetime64(start, "s") + seconds.astype("timedelta64[s]")
    words = WORDS[rng.integers(0, WORDS.size, (n, 3))]
    note = np.array([" ".join(row) for row in words], dtype=object)
    note[rng.random(n) < 0.05] = None
    return {
        "age": age,
        "income": rng.lognormal(10, 0.4, n),
        "country": COUNTRIES[rng.choice(4, size=n, p=np.array(country_p))],
        "member": rng.random(n) < 0.3,
        "applied_at": applied.astype("datetime64[ns]"),
        "note": note,
    }

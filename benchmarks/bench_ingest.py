"""Data-plane benchmark on PostgreSQL: ingest throughput for a 1,000,000-row production batch of
30 features (Parquet), label ingest, and the read time of a 30-day window with its labels.

Each measured step runs in a fresh process, so its peak memory (max RSS, Django included) is
its own; the Arrow pool's peak is printed beside it. Runs in a database of its own
(``<name>_bench_ingest``) and a temp storage directory, both removed afterwards.
Usage: ``make bench-ingest`` (or set DATABASE_URL / DATABASE_OWNER_URL).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
LABELS = int(os.environ.get("BENCH_LABELS", "300000"))
NUMERIC, CATEGORICAL = 24, 6
START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 30
CATEGORIES = ("a", "b", "c", "d", "e", "f", "g", "h")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    import django

    django.setup()


def _features() -> list[tuple[str, str]]:
    return [(f"num_{i:02d}", "numeric") for i in range(NUMERIC)] + [
        (f"cat_{i}", "categorical") for i in range(CATEGORICAL)
    ]


def _register() -> None:
    from django.contrib.auth.models import Group, User

    from registry.models import FeatureSchema, FeatureSpec, ModelVersion, MonitoredModel

    owner = User.objects.create(username="bench-owner")
    model = MonitoredModel.objects.create(
        slug="bench-pd",
        name="Bench PD",
        decision_type="automated",
        task_type="binary",
        business_unit="Bench",
        owner=owner,
        team=Group.objects.create(name="bench-team"),
        risk_tier="high",
        risk_tier_rationale="benchmark",
    )
    version = ModelVersion.objects.create(
        model=model,
        label="v1",
        artifact_sha256="0" * 64,
        status="production",
        role="champion",
        deployed_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    schema = FeatureSchema.objects.create(
        version=version,
        number=1,
        target_column="default_flag",
        prediction_column="prediction",
        score_columns=["score"],
        content_sha256="0" * 64,
    )
    for position, (name, kind) in enumerate(_features()):
        FeatureSpec.objects.create(
            schema=schema,
            position=position,
            name=name,
            kind=kind,
            min_value=-4.0 if kind == "numeric" else None,
            max_value=4.0 if kind == "numeric" else None,
            categories=list(CATEGORIES[:6]) if kind == "categorical" else None,
        )


def _write_batch(path: Path) -> None:
    """Written in slices, so the generator's memory does not count against the ingest."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    step_ns = DAYS * 86_400 * 10**9 // ROWS
    start_ns = int(START.timestamp()) * 10**9
    writer = None
    for offset in range(0, ROWS, 100_000):
        n = min(100_000, ROWS - offset)
        index = np.arange(offset, offset + n)
        columns: dict[str, Any] = {
            "record_id": pa.array([f"rec-{i:08d}" for i in index]),
            "timestamp": pa.array(start_ns + index * step_ns, type=pa.timestamp("ns", tz="UTC")),
            "model_version": pa.array(["v1"] * n),
        }
        for name, kind in _features():
            if kind == "numeric":
                columns[name] = pa.array(rng.normal(size=n))
            else:
                columns[name] = pa.array(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)])
        score = rng.uniform(size=n)
        columns["prediction"] = pa.array((score > 0.5).astype(float))
        columns["score"] = pa.array(score)
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def _write_labels(path: Path) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(8)
    chosen = np.sort(rng.choice(ROWS, size=LABELS, replace=False))
    pq.write_table(
        pa.table(
            {
                "record_id": pa.array([f"rec-{i:08d}" for i in chosen]),
                "default_flag": pa.array(rng.integers(0, 2, LABELS).astype(float)),
            }
        ),
        path,
    )


def _peaks() -> dict[str, float]:
    import pyarrow as pa

    return {
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "arrow_mib": pa.default_memory_pool().max_memory() / 2**20,
    }


def _ingest(path: str, kind: str) -> dict[str, float]:
    _setup_django()
    from audit.ledger.context import Actor
    from monitors.ingest import batch_ingest

    started = time.perf_counter()
    result = batch_ingest(model="bench-pd", kind=kind, source=path, filename=path, sender=Actor.system())
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": result.batch.row_count, **_peaks()}


def _window() -> dict[str, float]:
    _setup_django()
    from monitors.selectors import production_window
    from registry.models import MonitoredModel

    model = MonitoredModel.objects.get(slug="bench-pd")
    started = time.perf_counter()
    window = production_window(
        model=model,
        start=START,
        end=START + timedelta(days=DAYS),
        columns=[name for name, _ in _features()] + ["prediction", "score"],
    )
    arrays = window.arrays()  # in the statistics engine's conventions, as a check reads them
    elapsed = time.perf_counter() - started
    labelled = int(window.labelled.sum())
    return {
        "seconds": elapsed,
        "rows": window.row_count,
        "columns": len(arrays),
        "labelled": labelled,
        **_peaks(),
    }


def _in_child(function: Any, *args: Any) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    runtime_url = os.environ["DATABASE_URL"]
    owner_url = os.environ["DATABASE_OWNER_URL"]
    name = urlsplit(runtime_url).path.lstrip("/") + "_bench_ingest"
    os.environ["DATABASE_URL"] = _with_database(runtime_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="fleetwatch-bench-ingest-"))
    os.environ["FLEETWATCH_STORAGE_DIR"] = str(workdir / "storage")
    os.environ["FLEETWATCH_INGEST_MAX_BYTES"] = str(8 * 2**30)
    _setup_django()

    import shutil

    from django.conf import settings
    from django.core.management import call_command

    from tests.support import database

    if not (database.is_postgres() and database.has_owner()):
        sys.exit("bench-ingest needs PostgreSQL with DATABASE_URL and DATABASE_OWNER_URL")
    database.create_test_database(name)
    try:
        call_command("migrate", database="owner", verbosity=0)
        _register()
        batch, labels = workdir / "production.parquet", workdir / "labels.parquet"
        started = time.perf_counter()
        _write_batch(batch)
        _write_labels(labels)
        size = batch.stat().st_size / 2**20
        print(
            f"(wrote a {ROWS:,}-row x {NUMERIC + CATEGORICAL}-feature Parquet batch, {size:.0f} MiB, "
            f"{NUMERIC} numeric + {CATEGORICAL} categorical features + record id, timestamp, version, "
            f"prediction, score, in {time.perf_counter() - started:.1f} s)"
        )

        run = _in_child(_ingest, str(batch), "production")
        print(
            f"ingest production: {run['rows']:,.0f} rows in {run['seconds']:.1f} s = "
            f"{run['rows'] / run['seconds']:,.0f} rows/s; peak memory {run['rss_mib']:.0f} MiB RSS "
            f"(Arrow pool peak {run['arrow_mib']:.0f} MiB)"
        )
        run = _in_child(_ingest, str(labels), "labels")
        print(
            f"ingest labels:     {run['rows']:,.0f} rows in {run['seconds']:.1f} s = "
            f"{run['rows'] / run['seconds']:,.0f} rows/s; peak memory {run['rss_mib']:.0f} MiB RSS"
        )
        if os.environ.get("BENCH_SKIP_WINDOW"):
            return
        run = _in_child(_window)
        print(
            f"read 30-day window: {run['rows']:,.0f} rows x {run['columns']:.0f} columns "
            f"({run['labelled']:,.0f} labelled) in {run['seconds']:.2f} s; "
            f"peak memory {run['rss_mib']:.0f} MiB RSS (Arrow pool peak {run['arrow_mib']:.0f} MiB)"
        )
    finally:
        if not os.environ.get("BENCH_KEEP"):
            database.drop_test_database(settings.DATABASES["default"]["NAME"])
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

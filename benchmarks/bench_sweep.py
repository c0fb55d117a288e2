"""Nightly sweep benchmark: 200 models x 30 features, 5,000-row windows against 50,000-row
references, checked by a real ``celery worker`` with 2 prefork processes on Redis.

Prints the sweep's wall time (beat's sweep task sent -> last run committed), the peak memory of
the worker processes, and where the checks' time went: statistics, storage reads (Parquet
windows and stored reference profiles) and the database (claim, reads, the commit of results and
ledger entries), from the one timing line each attempt logs.

Runs in a database of its own (``<name>_sweepbench``) and a storage directory of its own, both
removed afterwards; Redis database 14 unless ``FLEETWATCH_BENCH_REDIS_URL`` says otherwise.
Usage: ``make bench-sweep``. ``BENCH_SWEEP_MODELS`` scales it down for a quick look.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

MODELS = int(os.environ.get("BENCH_SWEEP_MODELS", "200"))
WINDOW_ROWS = 5_000
REFERENCE_ROWS = 50_000
WORKER_PROCESSES = 2
BROKER = os.environ.get("FLEETWATCH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TIMING = re.compile(
    r"checks\.timings run=(\d+) attempt=\d+ total=([\d.]+) statistics=([\d.]+) "
    r"storage_read=([\d.]+) database=([\d.]+)"
)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    import django

    django.setup()


def _window() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1), today


def _schema():  # type: ignore[no-untyped-def]
    from simulation.synthetic import fleet_schema

    return fleet_schema(numeric=20, categorical=8, boolean=2)


def _ingest(model_ids: list[int]) -> float:
    """One setup process: a reference and yesterday's production batch per model, through the
    data plane's ingest like any serving stack would post them."""
    _setup_django()
    import io

    from django.conf import settings

    from audit.ledger.context import Actor
    from monitors.ingest.services import batch_ingest
    from registry.models import MonitoredModel
    from simulation.synthetic import production_frame, reference_frame

    features = _schema()
    start, end = _window()
    sender = Actor("service", "bench", "bench-serving-stack")
    started = time.perf_counter()
    for model in MonitoredModel.objects.filter(pk__in=model_ids).order_by("pk"):
        version = model.versions.get()
        for kind, frame in (
            ("reference", reference_frame(features, rows=REFERENCE_ROWS, seed=model.pk)),
            (
                "production",
                production_frame(
                    features,
                    rows=WINDOW_ROWS,
                    seed=10_000 + model.pk,
                    start=start,
                    end=end,
                    version_label=version.label,
                    record_prefix=model.slug,
                    version_column=settings.FLEETWATCH_VERSION_LABEL_COLUMN,
                    drift={"num_00": 0.5, "cat_00": 0.3} if model.pk % 5 == 0 else 0.0,
                ),
            ),
        ):
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            buffer.seek(0)
            batch_ingest(
                model=model,
                kind=kind,
                source=buffer,
                sender=sender,
                filename=f"{kind}.parquet",
                version=version if kind == "reference" else None,
            )
    return time.perf_counter() - started


def _peak_memory(pids: set[int]) -> dict[int, int]:
    """VmHWM (peak resident set, kB) of each process still alive."""
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1])
        except OSError:
            continue
    return peaks


def _children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def main() -> None:
    runtime_url = os.environ["DATABASE_URL"]
    owner_url = os.environ["DATABASE_OWNER_URL"]
    name = urlsplit(runtime_url).path.lstrip("/") + "_sweepbench"
    os.environ["DATABASE_URL"] = _with_database(runtime_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    storage = tempfile.mkdtemp(prefix="fleetwatch-bench-sweep-")
    os.environ["FLEETWATCH_STORAGE_DIR"] = storage
    _setup_django()

    import redis
    from django.core.management import call_command

    from monitors.checks.models import FINAL_STATUSES, CheckRun, RunKind
    from tests.monitors.checks.world import make_model
    from tests.support import database
    from tests.support.celery_worker import celery_worker, client_app

    if not (database.is_postgres() and database.has_owner()):
        sys.exit("bench-sweep needs PostgreSQL with DATABASE_URL and DATABASE_OWNER_URL")
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.RedisError as exc:
        sys.exit(f"bench-sweep needs Redis at {BROKER}: {exc}")

    database.create_test_database(name)
    try:
        call_command("migrate", database="owner", verbosity=0)
        start, _ = _window()
        features = _schema()
        ids = [
            make_model(
                f"bench-{i:03d}",
                deployed_at=start,
                features=features,
                min_sample_size=1000,
                expected_rows_per_day=WINDOW_ROWS,
            ).pk
            for i in range(MODELS)
        ]
        from django.db import connections

        connections.close_all()
        setup_started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(WORKER_PROCESSES) as pool:
            pool.map(_ingest, [ids[i::WORKER_PROCESSES] for i in range(WORKER_PROCESSES)])
        print(
            f"setup: {MODELS} models x {len(features)} features, {REFERENCE_ROWS:,}-row references and "
            f"{WINDOW_ROWS:,}-row windows ingested in {time.perf_counter() - setup_started:.0f} s"
        )

        env = {"FLEETWATCH_STORAGE_DIR": storage, "LOG_LEVEL": "INFO"}
        with celery_worker(
            BROKER, concurrency=WORKER_PROCESSES, queues="sweep,checks", extra_env=env
        ) as worker:
            log = REPO / "var" / f"test-worker-{os.getpid()}.log"
            peaks: dict[int, int] = {}
            sent = time.perf_counter()
            client_app(BROKER).send_task("checks.fleet_sweep", queue="sweep")
            expected = 2 * MODELS
            while True:
                peaks.update(
                    {
                        pid: max(kb, peaks.get(pid, 0))
                        for pid, kb in _peak_memory({worker.pid, *_children(worker.pid)}).items()
                    }
                )
                done = CheckRun.objects.filter(status__in=FINAL_STATUSES).count()
                if done >= expected:
                    break
                if time.perf_counter() - sent > 900:
                    sys.exit(f"only {done} of {expected} runs finished in 15 minutes")
                time.sleep(0.25)
            wall = time.perf_counter() - sent
            timings = [tuple(map(float, m.groups()[1:])) for m in TIMING.finditer(log.read_text())]

        drift = CheckRun.objects.filter(kind=RunKind.DRIFT)
        succeeded = drift.filter(status="succeeded").count()
        drifted = drift.filter(feature_results__drifted=True).distinct().count()
        total = sum(t[0] for t in timings)
        statistics = sum(t[1] for t in timings)
        storage_read = sum(t[2] for t in timings)
        db = sum(t[3] for t in timings)
        worker_peaks = sorted((kb for pid, kb in peaks.items() if pid != worker.pid), reverse=True)
        print(
            f"nightly sweep: {expected} runs ({MODELS} drift checks, {succeeded} succeeded, {drifted} with "
            f"drifted features; {MODELS} performance runs skipped), {WORKER_PROCESSES} worker processes"
        )
        print(f"  wall time            {wall:7.1f} s  ({MODELS / wall:.1f} drift checks/s)")
        print(
            f"  peak memory          {max(worker_peaks, default=0) / 1024:7.0f} MiB per worker process "
            f"(main process {peaks.get(worker.pid, 0) / 1024:.0f} MiB)"
        )
        print(f"  time inside runs     {total:7.1f} s  (sum over both processes)")
        if total:
            other = total - statistics - storage_read - db
            for label, value in (
                ("statistics", statistics),
                ("storage reads", storage_read),
                ("database", db),
                ("other (Python, results)", other),
            ):
                print(f"    {label:<24} {value:7.1f} s  {100 * value / total:5.1f} %")
    finally:
        from django.db import connections

        connections.close_all()
        database.drop_test_database(name)
        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()

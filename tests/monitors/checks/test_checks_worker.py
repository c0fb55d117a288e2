"""The check pipeline on real Redis with a real ``celery worker`` (prefork) in its own process.

Leases, time limits and visibility timeouts are shortened for the tests (time limit 10 s < lease
15 s < visibility 20 s). A run is held mid-flight by locking the external-events table the last
stage reads: the claim has committed (``running``, attempt 1), the worker waits on the lock, and
the test can kill it there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.ledger.models import LedgerEntry
from monitors.checks.models import CheckRun, FeatureResult, MetricResult, RunKind, RunStatus, StageRecord
from monitors.checks.services.reconcile import checks_reconcile
from monitors.checks.services.sweep import fleet_sweep
from tests.monitors.checks.data import ingest_reference, ingest_window
from tests.monitors.checks.world import WINDOW_ROWS, make_model
from tests.support import database
from tests.support.celery_worker import celery_worker, client_app
from tests.support.services import missing_service

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres"), pytest.mark.redis]

NOW = datetime(2025, 1, 2, 1, tzinfo=UTC)
WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
FINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.MISSED)
SHORT = {
    "FLEETWATCH_TASK_TIME_LIMIT": "10",
    "FLEETWATCH_CHECK_LEASE_SECONDS": "15",
    "FLEETWATCH_VISIBILITY_TIMEOUT": "20",
    "FLEETWATCH_UNACKED_RESTORE_SECONDS": "2",
}


def _models_with_data(count: int, *, rows: int = WINDOW_ROWS, window=WINDOW) -> list:
    models = []
    for i in range(count):
        model = make_model(f"model-{i:02d}", deployed_at=window[0])
        ingest_reference(model, rows=800, seed=100 + i)
        ingest_window(model, start=window[0], end=window[1], rows=rows, seed=200 + i)
        models.append(model)
    return models


def _worker_env(storage_dir, **extra: str) -> dict[str, str]:
    return {"FLEETWATCH_STORAGE_DIR": str(storage_dir), **SHORT, **extra}


def _dispatcher(broker_url: str):
    client = client_app(broker_url)

    def dispatch(run_id: int) -> None:
        client.send_task("checks.run_execute", args=[run_id], queue="checks")

    return dispatch


def _wait(predicate, *, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _all_final(runs=None) -> bool:
    queryset = runs if runs is not None else CheckRun.objects.all()
    return queryset.exists() and not queryset.exclude(status__in=FINAL).exists()


@contextmanager
def _events_locked() -> Iterator[None]:
    """Hold the last stage of every drift run: its read of external events waits for this lock."""
    with database.owner_connect() as conn:
        conn.execute("LOCK TABLE registry_externalevent IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def _drift_run() -> CheckRun:
    return CheckRun.objects.get(kind=RunKind.DRIFT)


def _exactly_one_set_of_results(run: CheckRun) -> None:
    assert StageRecord.objects.filter(run=run).count() == 3
    features = FeatureResult.objects.filter(run=run)
    assert features.count() == features.values("feature", "segment", "test").distinct().count() > 0
    assert MetricResult.objects.filter(run=run, metric="row_count").count() == 1
    finished = LedgerEntry.objects.filter(
        subject_type="checks.checkrun",
        subject_id=str(run.pk),
        action__in=["checks.run.succeeded", "checks.run.failed"],
    )
    assert [(e.action, e.payload["attempt"]) for e in finished] == [("checks.run.succeeded", run.attempt)]


# --- a nightly sweep of 20 models -------------------------------------------------------------------


def test_a_sweep_of_20_models_completes_in_a_separate_worker(redis_url, storage_dir):
    _models_with_data(20)
    with celery_worker(
        redis_url, concurrency=2, queues="sweep,checks", extra_env=_worker_env(storage_dir)
    ) as worker:
        # Beat's sweep, sent the way beat sends it; the worker's sweep enqueues one task per run.
        client_app(redis_url).send_task("checks.fleet_sweep", kwargs={"now": NOW.isoformat()}, queue="sweep")
        _wait(lambda: CheckRun.objects.count() == 40 and _all_final(), timeout=180, what="40 final runs")

    drift = CheckRun.objects.filter(kind=RunKind.DRIFT)
    assert drift.count() == 20 and set(drift.values_list("status", flat=True)) == {"succeeded"}
    assert drift.values("version", "window_start", "window_end").distinct().count() == 20
    assert set(drift.values_list("window_start", "window_end")) == {WINDOW}
    pids = set(drift.values_list("worker_pid", flat=True))
    assert os.getpid() not in pids and worker.pid not in pids  # the pool's children did the work
    performance = CheckRun.objects.filter(kind=RunKind.PERFORMANCE)
    assert performance.count() == 20 and set(performance.values_list("status", flat=True)) == {"skipped"}
    reasons = performance.values_list("status_reason", flat=True)
    assert all("no performance stage exists yet" in reason for reason in reasons)
    assert LedgerEntry.objects.filter(action="checks.run.succeeded").count() == 20
    assert LedgerEntry.objects.filter(action="checks.run.skipped").count() == 20


# --- crashes ------------------------------------------------------------------------------------------


def test_sigkill_of_the_child_running_a_check_leads_to_attempt_two(redis_url, storage_dir):
    _models_with_data(1)
    with celery_worker(redis_url, concurrency=1, queues="checks", extra_env=_worker_env(storage_dir)):
        with _events_locked():
            fleet_sweep(now=NOW, dispatch=_dispatcher(redis_url))
            run = _wait(
                lambda: CheckRun.objects.filter(kind=RunKind.DRIFT, status="running").first(),
                timeout=60,
                what="the drift run to be claimed",
            )
            killed = run.worker_pid
            os.kill(killed, signal.SIGKILL)
        _wait(lambda: _all_final(), timeout=90, what="every run to finish")

    run = _drift_run()
    assert (run.status, run.attempt) == ("succeeded", 2)
    assert run.worker_pid != killed
    _exactly_one_set_of_results(run)


def test_sigkill_of_the_whole_worker_then_a_new_worker_finishes_with_attempt_two(redis_url, storage_dir):
    _models_with_data(1)
    env = _worker_env(storage_dir)
    with celery_worker(redis_url, concurrency=1, queues="checks", extra_env=env) as first, _events_locked():
        fleet_sweep(now=NOW, dispatch=_dispatcher(redis_url))
        _wait(
            lambda: CheckRun.objects.filter(kind=RunKind.DRIFT, status="running").exists(),
            timeout=60,
            what="the drift run to be claimed",
        )
        os.killpg(first.pid, signal.SIGKILL)  # main process and children, no goodbye
        first.wait(timeout=10)
    # Nothing acknowledged the message: Redis hands it out again after the visibility timeout.
    with celery_worker(redis_url, concurrency=1, queues="checks", extra_env=env) as second:
        _wait(lambda: _all_final(), timeout=90, what="the redelivered run to finish")

    run = _drift_run()
    assert (run.status, run.attempt) == ("succeeded", 2)
    assert run.worker_pid not in (first.pid, second.pid, os.getpid())
    _exactly_one_set_of_results(run)


def test_the_same_message_delivered_twice_makes_one_run(redis_url, storage_dir):
    _models_with_data(1)
    fleet_sweep(now=NOW, dispatch=None)
    run = _drift_run()
    client = client_app(redis_url)
    with celery_worker(redis_url, concurrency=2, queues="checks", extra_env=_worker_env(storage_dir)):
        with _events_locked():
            first = client.send_task("checks.run_execute", args=[run.pk], queue="checks", task_id="dup-1")
            client.send_task("checks.run_execute", args=[run.pk], queue="checks", task_id="dup-1")
            _wait(
                lambda: CheckRun.objects.filter(pk=run.pk, status="running").exists(),
                timeout=60,
                what="the first delivery to claim the run",
            )
            time.sleep(1.0)  # the second delivery meets the claim while the first is held
        _wait(lambda: _all_final(CheckRun.objects.filter(pk=run.pk)), timeout=60, what="the run to finish")
        assert first.get(timeout=60) in ("committed", "final")

    run.refresh_from_db()
    assert (run.status, run.attempt) == ("succeeded", 1)
    _exactly_one_set_of_results(run)


# --- a Redis restart in the middle of a sweep -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server of the test's own, on its own port, without persistence."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing_service("the redis-server binary")
        self.binary = binary
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        _wait(lambda: self._ping(client), timeout=20, what="redis-server to answer", every=0.05)

    @staticmethod
    def _ping(client) -> bool:
        import redis

        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_redis_restart_in_the_middle_of_a_sweep_delays_runs_but_loses_none(own_redis, storage_dir):
    # Yesterday's window, so that the reconciler, which runs on the real clock, finds it well
    # inside the missed horizon.
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    _models_with_data(20, window=(today - timedelta(days=1), today))
    dispatch = _dispatcher(own_redis.url)
    sent = []

    def dispatch_then_restart(run_id: int) -> None:
        sent.append(run_id)
        if len(sent) == 10:
            own_redis.restart()  # every queued message and unacknowledged delivery is gone
        dispatch(run_id)

    env = _worker_env(storage_dir)
    with ExitStack() as workers:
        worker = workers.enter_context(
            celery_worker(own_redis.url, concurrency=2, queues="checks", extra_env=env)
        )
        fleet_sweep(now=timezone.now(), dispatch=dispatch_then_restart)
        assert len(sent) == 40
        deadline = time.monotonic() + 240
        while not _all_final() and time.monotonic() < deadline:
            if worker.poll() is not None:
                # kombu may give up on a connection lost with deliveries in flight and stop the
                # worker; a process supervisor starts it again, as this does.
                worker = workers.enter_context(
                    celery_worker(own_redis.url, concurrency=2, queues="checks", extra_env=env)
                )
            time.sleep(3)
            # The beat reconciler, run here with ``now`` past the requeue delay.
            checks_reconcile(
                now=timezone.now(), dispatch=_dispatcher(own_redis.url), requeue_after=timedelta(seconds=5)
            )
        assert _all_final(), list(CheckRun.objects.exclude(status__in=FINAL).values_list("pk", "status"))

    runs = CheckRun.objects.all()
    assert runs.count() == 40
    assert set(runs.filter(kind=RunKind.DRIFT).values_list("status", flat=True)) == {"succeeded"}
    assert set(runs.filter(kind=RunKind.PERFORMANCE).values_list("status", flat=True)) == {"skipped"}
    assert LedgerEntry.objects.filter(action="checks.run.succeeded").count() == 20
    assert LedgerEntry.objects.filter(action="checks.run.requeued").exists()  # it took the reconciler

"""A real ``celery worker`` in its own process group, for tests that are about Celery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from tests.support.database import subprocess_env

REPO = Path(__file__).resolve().parents[2]


def client_app(broker_url: str) -> Celery:
    """A bare Celery client on the test broker: the test process's own settings use memory://."""
    app = Celery("fleetwatch-test-client", broker=broker_url, backend=broker_url)
    app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")
    return app


@contextmanager
def celery_worker(
    broker_url: str,
    *,
    pool: str = "prefork",
    concurrency: int = 1,
    queues: str = "celery",
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[subprocess.Popen[str]]:
    env = subprocess_env(CELERY_BROKER_URL=broker_url, CELERY_RESULT_BACKEND=broker_url, **(extra_env or {}))
    (REPO / "var").mkdir(exist_ok=True)
    log = open(REPO / "var" / f"test-worker-{os.getpid()}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fleetwatch",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--queues",
            queues,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_ready(client_app(broker_url), process, ready_timeout)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _wait_ready(app: Celery, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}; see var/test-worker-*.log")
        try:
            replies = app.control.ping(timeout=1.0)
        except (OSError, RedisError, OperationalError):
            # the broker is restarting or dropped a pooled connection: not ready yet; ask again
            # with a fresh client (a closed pool refuses every later acquire)
            app = client_app(app.conf.broker_url)
            time.sleep(0.2)
            continue
        if replies:
            return
    raise RuntimeError("celery worker did not answer a ping in time")

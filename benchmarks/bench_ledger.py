"""Ledger benchmark on PostgreSQL: append throughput (1 and 4 writer processes) and the time
``audit_verify`` takes over 1,000,000 entries.

Runs in a database of its own (``<name>_bench``), created and dropped here, with the same two
roles as production. Usage: ``make bench-ledger`` (or set DATABASE_URL / DATABASE_OWNER_URL).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

APPENDS_PER_WRITER = int(os.environ.get("BENCH_APPENDS", "1000"))
VERIFY_ENTRIES = int(os.environ.get("BENCH_VERIFY_ENTRIES", "1000000"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    import django

    django.setup()


def _writer(count: int) -> tuple[float, float]:
    _setup_django()
    from audit.ledger import record

    record(action="checks.run.scheduled")  # connect before the clock starts
    started = time.time()
    for i in range(count):
        record(action="checks.run.succeeded", subject=("bench", i), payload={"i": i, "share": i / 3})
    return started, time.time()


def _appends(writers: int) -> float:
    """Entries per second from the first writer's start to the last writer's end (wall clock,
    process start-up excluded); each append is its own committed transaction."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(writers) as pool:
        spans = pool.map(_writer, [APPENDS_PER_WRITER] * writers)
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return writers * APPENDS_PER_WRITER / wall


def _fill_chain(entries: int) -> None:
    """Write a valid chain straight through COPY, as the owner: appending a million entries one
    transaction at a time would measure the writers, not the verifier."""
    import json

    from audit.ledger.hashing import GENESIS_HASH, entry_hash
    from tests.support.database import owner_connect

    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous = GENESIS_HASH
    with owner_connect(autocommit=False) as conn:
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY ledger_entry (sequence, previous_hash, entry_hash, recorded_at, actor_kind, actor_id,"
                " actor_name, action, subject_type, subject_id, correlation_id, payload) FROM STDIN"
            ) as copy,
        ):
            for sequence in range(1, entries + 1):
                moment = start + timedelta(microseconds=sequence * 1000)
                payload = {"run": sequence, "psi": sequence / 1000, "feature": f"f{sequence % 40}"}
                correlation = str(uuid.UUID(int=sequence))
                digest = entry_hash(
                    previous_hash=previous,
                    sequence=sequence,
                    recorded_at=moment,
                    actor_kind="system",
                    actor_id="system",
                    actor_name="system",
                    action="checks.run.succeeded",
                    subject_type="monitors.checkrun",
                    subject_id=str(sequence),
                    correlation_id=correlation,
                    payload=payload,
                )
                copy.write_row(
                    (
                        sequence,
                        previous,
                        digest,
                        moment,
                        "system",
                        "system",
                        "system",
                        "checks.run.succeeded",
                        "monitors.checkrun",
                        str(sequence),
                        correlation,
                        json.dumps(payload),
                    )
                )
                previous = digest
        conn.commit()


def main() -> None:
    runtime_url = os.environ["DATABASE_URL"]
    owner_url = os.environ["DATABASE_OWNER_URL"]
    name = urlsplit(runtime_url).path.lstrip("/") + "_bench"
    os.environ["DATABASE_URL"] = _with_database(runtime_url, name)
    os.environ["DATABASE_OWNER_URL"] = _with_database(owner_url, name)
    _setup_django()

    from django.conf import settings
    from django.core.management import call_command

    from audit.ledger.verify import ledger_verify
    from tests.support import database

    if not (database.is_postgres() and database.has_owner()):
        sys.exit("bench-ledger needs PostgreSQL with DATABASE_URL and DATABASE_OWNER_URL")
    database.create_test_database(name)
    try:
        call_command("migrate", database="owner", verbosity=0)
        one = _appends(1)
        database.empty_ledger()
        four = _appends(4)
        print(f"ledger append, 1 writer:  {one:8.0f} entries/s ({APPENDS_PER_WRITER} appends)")
        print(
            f"ledger append, 4 writers: {four:8.0f} entries/s ({4 * APPENDS_PER_WRITER} appends, "
            f"{four / one:.2f}x one writer)"
        )

        database.empty_ledger()
        started = time.perf_counter()
        _fill_chain(VERIFY_ENTRIES)
        print(f"(built a {VERIFY_ENTRIES:,}-entry chain in {time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        result = ledger_verify()
        elapsed = time.perf_counter() - started
        assert result.ok and result.entries == VERIFY_ENTRIES, result
        print(
            f"audit_verify, {VERIFY_ENTRIES:,} entries: {elapsed:.1f} s "
            f"({VERIFY_ENTRIES / elapsed:,.0f} entries/s)"
        )
    finally:
        database.drop_test_database(settings.DATABASES["default"]["NAME"])


if __name__ == "__main__":
    main()

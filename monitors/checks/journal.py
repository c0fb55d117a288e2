"""What one attempt at a run notes about its own reading, beside the inputs it hands the stages.

The runner creates a ``RunJournal`` per attempt and passes it to the loader. It keeps:

- the run-row fields that say what was read (schema, parameters, seeds, sha256s, ingest point),
  noted as each read succeeds, so that a run whose reading fails half-way still records what it
  did read;
- the time spent per kind of work (``make bench-sweep`` reads it from the log line);
- stored files whose bytes no longer hash to the sha256 on record (``recompute`` reports them).

Stages never see it: they take the frozen ``RunInputs`` and the outcomes before them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from monitors.storage import open_stored


class RunJournal:
    def __init__(self) -> None:
        self.read: dict[str, Any] = {}
        self.timings: dict[str, float] = {"storage_read": 0.0, "statistics": 0.0, "database_read": 0.0}
        self.integrity_errors: list[str] = []

    def note_read(self, **fields: Any) -> None:
        """Run-row fields describing inputs that have just been read."""
        self.read.update(fields)

    @contextmanager
    def timed(self, what: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add_time(what, time.perf_counter() - started)

    def add_time(self, what: str, seconds: float) -> None:
        self.timings[what] = self.timings.get(what, 0.0) + seconds

    def verify_stored(self, *, what: str, name: str, expected: str) -> bytes:
        """Read a stored file whole and compare its sha256 with the one on record; a mismatch is
        noted (``recompute`` reports it) and the bytes are used as they are."""
        with open_stored(name) as handle:
            data = handle.read()
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            self.integrity_errors.append(f"{what}: stored bytes hash to {actual}, recorded {expected}")
        return data

"""``python -m tests.support.ingest_process RELEASE ARGS...``: ``manage.py ARGS`` in a process whose
every ingest stops between its durable file write and its commit.

The pause is installed in ``monitors.ingest.services.BEFORE_COMMIT_HOOKS``, which production leaves
empty: it announces itself by creating ``RELEASE.paused``, then waits for ``RELEASE`` to appear (at
most two minutes), so that a test can kill the process at that point or let it go on.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import django

PAUSE_LIMIT_SECONDS = 120


def paused_marker(release: Path) -> Path:
    """The file that says the process has reached the pause."""
    return Path(f"{release}.paused")


def pause_before_commit(release: Path) -> Callable[[str], None]:
    def pause(stored_name: str) -> None:
        paused_marker(release).touch()
        deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    return pause


def main() -> None:
    release, argv = Path(sys.argv[1]), sys.argv[2:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    django.setup()
    from django.core.management import execute_from_command_line

    from monitors.ingest.services import BEFORE_COMMIT_HOOKS

    BEFORE_COMMIT_HOOKS.append(pause_before_commit(release))
    execute_from_command_line(["manage.py", *argv])


if __name__ == "__main__":
    main()

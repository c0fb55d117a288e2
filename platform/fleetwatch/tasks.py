import os
import platform
import socket
import sys

from celery import shared_task


@shared_task(name="fleetwatch.probe_worker")
def probe_worker() -> dict[str, object]:
    """Where a worker runs and what it imported: the deployment's smoke test, and the proof that
    ``platform`` inside a worker is still the standard library's."""
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "platform_module": platform.__file__,
        "platform_system": platform.system(),
    }

"""A separate OS process appending to the ledger: ``python -m tests.support.append_worker N TAG``."""

import os
import sys

import django


def main() -> None:
    count, tag = int(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    django.setup()
    from audit.ledger import record

    for i in range(count):
        record(action="registry.event.created", subject=("writer", tag), payload={"writer": tag, "i": i})


if __name__ == "__main__":
    main()

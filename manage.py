#!/usr/bin/env python
"""Django's command-line utility for Fleetwatch."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a plain folder on the import path, never a package (it would shadow the
    # standard library's ``platform``); an editable install adds it too, this covers a bare checkout.
    sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

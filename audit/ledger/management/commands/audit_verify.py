from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.ledger.selectors import ChainHead
from audit.ledger.verify import ledger_verify


class Command(BaseCommand):
    help = "Walk the ledger's hash chain; name the first bad entry. Exit 1 when the chain is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--head", help="a head kept outside the database, as SEQ:HASH")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            expected = ChainHead.parse(options["head"]) if options["head"] else None
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        started = time.perf_counter()
        result = ledger_verify(expected_head=expected)
        elapsed = time.perf_counter() - started
        if not result.ok:
            raise CommandError(
                f"ledger BROKEN at entry {result.bad_sequence}: {result.problem} "
                f"({result.entries} entries verified before it)",
                returncode=1,
            )
        self.stdout.write(f"ledger OK: {result.entries} entries, head {result.head} ({elapsed:.2f} s)")

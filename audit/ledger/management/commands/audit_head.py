from typing import Any

from django.core.management.base import BaseCommand

from audit.ledger.selectors import ledger_head


class Command(BaseCommand):
    help = "Print the ledger's current head as SEQ:HASH, for safekeeping outside the database."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(ledger_head()))

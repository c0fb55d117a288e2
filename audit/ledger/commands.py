from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.ledger.context import Actor, ledger_scope


class OperatorCommand(BaseCommand):
    """A management command whose ledger entries name the operator at the shell and share one
    correlation id for the whole invocation."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with ledger_scope(actor=Actor.operator()):
            return super().execute(*args, **options)

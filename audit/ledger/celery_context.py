"""Every Celery task runs under its task id as correlation id, on behalf of ``system``."""

from __future__ import annotations

from typing import Any

from celery import signals

from audit.ledger.context import Actor, enter_scope, exit_scope

_scopes: dict[str, tuple[Any, Any]] = {}


@signals.task_prerun.connect(weak=False)
def _enter(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _scopes[task_id] = enter_scope(actor=Actor.system(), correlation_id=task_id)


@signals.task_postrun.connect(weak=False)
def _exit(task_id: str | None = None, **kwargs: Any) -> None:
    tokens = _scopes.pop(task_id or "", None)
    if tokens is not None:
        exit_scope(tokens)

"""Who is acting, and on behalf of which request or task.

A correlation id follows one HTTP request, one Celery task or one management command, so every
ledger entry written on its behalf can be found together. The actor defaults to the context's; a
shell command's actor is its operator, scheduled work's is ``system``.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

ActorKind = Literal["user", "service", "system", "operator"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    name: str

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system", "system")

    @classmethod
    def operator(cls) -> Actor:
        """The person at the shell: ``FLEETWATCH_OPERATOR`` if set, else the OS user."""
        name = os.environ.get("FLEETWATCH_OPERATOR") or _os_user()
        return cls("operator", name, name)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls("user", str(user.pk), user.get_username())

    @classmethod
    def for_service(cls, service_id: object, name: str) -> Actor:
        return cls("service", str(service_id), name)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary container uid
        return f"uid-{os.getuid()}"


_actor: ContextVar[Actor | None] = ContextVar("ledger_actor", default=None)
_correlation_id: ContextVar[str | None] = ContextVar("ledger_correlation_id", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def current_actor() -> Actor:
    return _actor.get() or Actor.system()


def current_correlation_id() -> str:
    """The scope's id; work outside any scope gets an id of its own per entry."""
    return _correlation_id.get() or new_correlation_id()


@contextmanager
def ledger_scope(*, actor: Actor | None = None, correlation_id: str | None = None) -> Iterator[str]:
    """Run a block on behalf of ``actor`` under one correlation id (a new one if not given)."""
    cid = correlation_id or _correlation_id.get() or new_correlation_id()
    actor_token = _actor.set(actor) if actor is not None else None
    cid_token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(cid_token)
        if actor_token is not None:
            _actor.reset(actor_token)


def enter_scope(*, actor: Actor | None, correlation_id: str) -> tuple[Any, Any]:
    """Non-nested form for signal handlers (Celery's prerun/postrun) that cannot use ``with``."""
    return (_actor.set(actor) if actor else None, _correlation_id.set(correlation_id))


def exit_scope(tokens: tuple[Any, Any]) -> None:
    actor_token, cid_token = tokens
    _correlation_id.reset(cid_token)
    if actor_token is not None:
        _actor.reset(actor_token)

"""manage.py exception_approve ID --actor USERNAME"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from audit.ledger.commands import OperatorCommand
from registry.management.commands._document_errors import bad_input, refusal
from registry.models import PolicyException
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    policy_exception_approve,
)


class Command(OperatorCommand):
    help = "Approve a policy exception (a model-risk user who did not propose it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id", type=int)
        parser.add_argument("--actor", required=True, help="the approver's username")

    def handle(self, *args: Any, id: int, actor: str, **options: Any) -> None:  # noqa: A002
        user = get_user_model().objects.filter(username=actor, is_active=True).first()
        if user is None:
            raise bad_input(f"--actor {actor}: there is no such active user")
        exception = PolicyException.objects.filter(pk=id).first()
        if exception is None:
            raise bad_input(f"there is no policy exception #{id}")
        try:
            exception = policy_exception_approve(exception=exception, user=user)
        except (RegistryValidationError, RegistryPermissionDenied) as exc:
            raise refusal("exception_approve", exc) from exc
        self.stdout.write(
            f"approved exception #{exception.pk} (expires {exception.expires_at:%Y-%m-%d %H:%M} UTC)"
        )

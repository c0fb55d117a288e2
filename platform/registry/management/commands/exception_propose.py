"""manage.py exception_propose SLUG --target plan --field alpha --reason ... --expires DATE
--actor USERNAME"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from audit.ledger.commands import OperatorCommand
from registry.documents.fields import InvalidValue, moment
from registry.management.commands._document_errors import bad_input, refusal
from registry.models import MonitoredModel
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    policy_exception_propose,
)


class Command(OperatorCommand):
    help = (
        "Propose a policy exception allowing named fields of a model's plan or policy to be "
        "looser than its tier's until it expires. It counts once a model-risk user other "
        "than the proposer approves it (exception_approve)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--target", required=True, choices=("plan", "policy"))
        parser.add_argument(
            "--field",
            action="append",
            required=True,
            dest="fields",
            help="a field to loosen (repeat for several), e.g. alpha, thresholds.psi",
        )
        parser.add_argument("--reason", required=True)
        parser.add_argument(
            "--expires", required=True, help="when it lapses: 2026-06-30 or 2026-06-30T00:00:00Z"
        )
        parser.add_argument("--actor", required=True, help="the proposer's username")

    def handle(
        self,
        *args: Any,
        slug: str,
        target: str,
        fields: list[str],
        reason: str,
        expires: str,
        actor: str,
        **options: Any,
    ) -> None:
        user = get_user_model().objects.filter(username=actor, is_active=True).first()
        if user is None:
            raise bad_input(f"--actor {actor}: there is no such active user")
        model = MonitoredModel.objects.filter(slug=slug).first()
        if model is None:
            raise bad_input(f"there is no model '{slug}'")
        try:
            expires_at = moment(expires)
        except InvalidValue as exc:
            raise bad_input(f"--expires: {exc}") from exc
        try:
            exception = policy_exception_propose(
                model=model, target=target, fields=fields, reason=reason, expires_at=expires_at, user=user
            )
        except (RegistryValidationError, RegistryPermissionDenied) as exc:
            raise refusal("exception_propose", exc) from exc
        self.stdout.write(
            f"proposed exception #{exception.pk} for {slug} {target}: "
            f"{', '.join(fields)}; needs approval by model risk"
        )

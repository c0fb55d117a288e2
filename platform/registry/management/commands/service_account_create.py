from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from audit.ledger.commands import OperatorCommand
from registry.models import MonitoredModel
from registry.services.errors import RegistryPermissionDenied, RegistryValidationError
from registry.services.service_accounts import service_account_create


class Command(OperatorCommand):
    help = (
        "Create a service account scoped to the given models and print its API token, once. "
        "The token alone goes to stdout (TOKEN=$(manage.py service_account_create ...)); "
        "everything else to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="e.g. scoring-api (lowercase letters, digits, hyphens)")
        parser.add_argument("--models", default="", help="comma-separated slugs it may write data for")
        parser.add_argument(
            "--actor",
            required=True,
            help="an existing user whose permissions apply (model risk, or the models' owner)",
        )

    def handle(self, *args: Any, name: str, models: str, actor: str, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=actor)
        except User.DoesNotExist:
            raise CommandError(f"--actor {actor!r}: no such user") from None
        slugs = [slug.strip() for slug in models.split(",") if slug.strip()]
        found = {model.slug: model for model in MonitoredModel.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise CommandError(f"--models: no model {', '.join(map(repr, missing))}")
        try:
            account, token = service_account_create(name=name, models=found.values(), user=user)
        except RegistryValidationError as exc:
            raise CommandError(
                "; ".join(f"{path}: {message}" for path, message in exc.errors.items())
            ) from exc
        except RegistryPermissionDenied as exc:
            raise CommandError(f"--actor {actor!r}: {exc}") from exc
        self.stderr.write(
            f"Service account {account.name} created (user {account.user.username}, token prefix "
            f"{account.token_prefix}, models: {', '.join(sorted(found)) or 'none'}).\n"
            "Its token follows. It is shown this once and cannot be recovered; store it now."
        )
        self.stdout.write(token)

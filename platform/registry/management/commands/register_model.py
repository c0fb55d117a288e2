"""manage.py register_model FILE.yaml --actor USERNAME"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser

from audit.ledger.commands import OperatorCommand
from registry.documents.yaml_lines import DocumentSyntaxError, parse_yaml
from registry.management.commands._document_errors import bad_input, refusal
from registry.services import RegistryPermissionDenied, RegistryValidationError, model_apply


class Command(OperatorCommand):
    help = (
        "Register or update a model from its YAML (or JSON) document, with the permissions "
        "of --actor. An unchanged document changes nothing. Exit status 2 when the document "
        "is refused; every problem is printed with its key and line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the model document; - reads standard input")
        parser.add_argument(
            "--actor", required=True, help="username of an existing user whose permissions apply"
        )

    def handle(self, *args: Any, file: str, actor: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=actor).first()
        if user is None:
            raise bad_input(f"--actor {actor}: there is no such user")
        if not user.is_active:
            raise bad_input(f"--actor {actor}: the user is not active")
        source = "<stdin>" if file == "-" else file
        try:
            if file == "-":
                text = sys.stdin.read()
            else:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as exc:
            raise bad_input(f"{source}: cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise bad_input(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        try:
            parsed = parse_yaml(text)
        except DocumentSyntaxError as exc:
            where = f"{source}, line {exc.line}" if exc.line else source
            raise bad_input(f"{where}: {exc.message}") from exc
        try:
            result = model_apply(document=parsed.data, user=user)
        except (RegistryValidationError, RegistryPermissionDenied) as exc:
            raise refusal(source, exc, parsed) from exc
        if result.created:
            self.stdout.write(f"created model {result.model.slug}")
        elif result.changes:
            self.stdout.write(f"updated model {result.model.slug}")
        else:
            self.stdout.write(f"model {result.model.slug} unchanged")
        for change in result.changes:
            if not change.startswith("created model "):
                self.stdout.write(f"  {change}")

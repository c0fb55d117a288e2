"""How the registry's commands report refusals: one line per problem, with the file's line."""

from __future__ import annotations

from django.core.management.base import CommandError

from registry.documents.yaml_lines import ParsedYAML
from registry.services import RegistryPermissionDenied, RegistryValidationError

BAD_INPUT = 2  # exit status for input that was refused: wrong, not allowed or not found


def bad_input(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT)


def refusal(
    source: str, error: RegistryValidationError | RegistryPermissionDenied, parsed: ParsedYAML | None = None
) -> CommandError:
    if isinstance(error, RegistryPermissionDenied):
        where = f"{source}, line {parsed.line_of(error.field)}" if parsed and error.field else source
        return bad_input(f"{where}: refused: {error.message}")
    lines = []
    for path, message in error.errors.items():
        line = parsed.line_of(path) if parsed is not None else None
        where = f"{source}, line {line}" if line else source
        lines.append((line or 0, f"{where}: {path}: {message}"))
    lines.sort(key=lambda item: item[0])
    return bad_input("\n".join(text for _, text in lines))

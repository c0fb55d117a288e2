"""What the registry's services raise; the admin, the API and the commands turn them into a
message, a 400/403 or an exit code."""

from __future__ import annotations


class RegistryError(Exception):
    pass


class RegistryValidationError(RegistryError):
    """The input is wrong. ``errors`` maps a dotted path (``versions[0].features[3].kind``) to a
    sentence naming the problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))
        self.errors = dict(errors)


class RegistryLooseningRefused(RegistryValidationError):
    """A plan or policy looser than its tier's default without an exception that covers it.
    Recorded in the ledger as a refusal."""


class RegistryPermissionDenied(RegistryError):
    """The user may not do this. Recorded in the ledger as a refusal.

    ``field`` names the part of the input that needs a permission the user lacks (``team``,
    ``risk_tier``), or is empty. ``subject_visible`` is False when the user may not even see the
    object, so an interface can answer "not found" instead of "forbidden".
    """

    def __init__(self, message: str, *, field: str = "", subject_visible: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.subject_visible = subject_visible

    @property
    def errors(self) -> dict[str, str]:
        return {self.field or "(permission)": self.message}

"""The registry's writes: plain functions with keyword-only arguments, called by the admin, the
API and the management commands alike. Every create and change is recorded in the ledger; so is
every refusal."""

from registry.services.apply import ApplyResult, model_apply
from registry.services.errors import (
    RegistryError,
    RegistryLooseningRefused,
    RegistryPermissionDenied,
    RegistryValidationError,
)
from registry.services.events import external_event_create
from registry.services.policy_exceptions import (
    policy_exception_approve,
    policy_exception_propose,
)

__all__ = (
    "ApplyResult",
    "RegistryError",
    "RegistryLooseningRefused",
    "RegistryPermissionDenied",
    "RegistryValidationError",
    "external_event_create",
    "model_apply",
    "policy_exception_approve",
    "policy_exception_propose",
)

"""The catalogue of ledger actions: every name an entry may carry, what it records and the keys
of its payload. ``audit.ledger.record`` refuses a name that is not here, so an auditor's filter
on a name finds every instance of that act.

Names read ``<app>.<subject>.<what happened>``. A name once written to a ledger is never
reused for something else; when an act is renamed, the old name stays listed as a retired alias
of the new one (``names_for`` expands a filter to it) and is no longer accepted for new entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class LedgerAction:
    name: str
    records: str
    payload_keys: tuple[str, ...]
    retired_aliases: tuple[str, ...] = ()


class UnknownLedgerAction(ValueError):
    """An action name the catalogue lacks (or a retired alias, which no new entry may carry)."""


# --- registry -------------------------------------------------------------------------------------
REGISTRY_MODEL_CREATED = "registry.model.created"
REGISTRY_MODEL_CHANGED = "registry.model.changed"
REGISTRY_MODEL_REFUSED = "registry.model.refused"
REGISTRY_VERSION_CREATED = "registry.version.created"
REGISTRY_VERSION_CHANGED = "registry.version.changed"
REGISTRY_SCHEMA_CREATED = "registry.schema.created"
REGISTRY_PLAN_CREATED = "registry.plan.created"
REGISTRY_POLICY_CREATED = "registry.policy.created"
REGISTRY_EXCEPTION_PROPOSED = "registry.exception.proposed"
REGISTRY_EXCEPTION_APPROVED = "registry.exception.approved"
REGISTRY_EXCEPTION_REFUSED = "registry.exception.refused"
REGISTRY_EVENT_CREATED = "registry.event.created"
REGISTRY_EVENT_CHANGED = "registry.event.changed"
REGISTRY_EVENT_REFUSED = "registry.event.refused"
REGISTRY_SERVICE_ACCOUNT_CREATED = "registry.service_account.created"
REGISTRY_SERVICE_ACCOUNT_CHANGED = "registry.service_account.changed"
REGISTRY_SERVICE_ACCOUNT_ROTATED = "registry.service_account.rotated"
REGISTRY_SERVICE_ACCOUNT_DEACTIVATED = "registry.service_account.deactivated"
REGISTRY_SERVICE_ACCOUNT_REFUSED = "registry.service_account.refused"
API_REFUSED = "api.refused"

# --- data plane -----------------------------------------------------------------------------------
MONITORS_BATCH_ACCEPTED = "monitors.batch.accepted"
MONITORS_BATCH_REPOSTED = "monitors.batch.reposted"
MONITORS_BATCH_REFUSED = "monitors.batch.refused"
MONITORS_PROFILE_BUILT = "monitors.profile.built"
MONITORS_ARTEFACT_BUILT = "monitors.artefact.built"
MONITORS_RETENTION_PURGED = "monitors.retention.purged"
MONITORS_STORAGE_ORPHANS_SWEPT = "monitors.storage.orphans_swept"
MONITORS_LABELS_ORPHANED = "monitors.labels.orphaned"

# --- checks ---------------------------------------------------------------------------------------
CHECKS_RUN_SCHEDULED = "checks.run.scheduled"
CHECKS_RUN_SUCCEEDED = "checks.run.succeeded"
CHECKS_RUN_FAILED = "checks.run.failed"
CHECKS_RUN_SKIPPED = "checks.run.skipped"
CHECKS_RUN_MISSED = "checks.run.missed"
CHECKS_RUN_REQUEUED = "checks.run.requeued"
CHECKS_RUN_RECOMPUTED = "checks.run.recomputed"
CHECKS_RUN_RECOMPUTE_REFUSED = "checks.run.recompute_refused"
CHECKS_MODEL_UNPLANNED = "checks.model.unplanned"
CHECKS_SCHEDULES_INSTALLED = "checks.schedules.installed"

_MODEL = ("model",)
_CHANGE = ("model", "before", "after", "changed")
_REFUSAL = ("model", "errors")
_RUN = ("run", "model", "version", "kind", "window", "revision", "status", "reason")

_CATALOGUE = (
    LedgerAction(REGISTRY_MODEL_CREATED, "a model entered the inventory", ("model", "before", "after")),
    LedgerAction(REGISTRY_MODEL_CHANGED, "inventory fields of a model changed", _CHANGE),
    LedgerAction(REGISTRY_MODEL_REFUSED, "a model document or change was refused", _REFUSAL),
    LedgerAction(
        REGISTRY_VERSION_CREATED, "a model version was registered", ("model", "version", "before", "after")
    ),
    LedgerAction(
        REGISTRY_VERSION_CHANGED,
        "a version's lifecycle or fields changed",
        ("model", "version", "before", "after", "changed"),
    ),
    LedgerAction(
        REGISTRY_SCHEMA_CREATED,
        "a new feature schema version for a model version",
        ("model", "version", "number", "content_sha256"),
    ),
    LedgerAction(
        REGISTRY_PLAN_CREATED,
        "a new monitoring plan version came into force",
        ("model", "number", "content_sha256", "values", "reason"),
    ),
    LedgerAction(
        REGISTRY_POLICY_CREATED,
        "a new retraining policy version came into force",
        ("model", "number", "content_sha256", "values", "reason"),
    ),
    LedgerAction(
        REGISTRY_EXCEPTION_PROPOSED,
        "a policy exception (a looser setting) was proposed",
        ("model", "fields", "content_sha256"),
    ),
    LedgerAction(
        REGISTRY_EXCEPTION_APPROVED,
        "a policy exception was approved (four-eyes)",
        ("exception", "approved_sha256", "approved_at"),
    ),
    LedgerAction(REGISTRY_EXCEPTION_REFUSED, "a proposal or approval of an exception was refused", _REFUSAL),
    LedgerAction(
        REGISTRY_EVENT_CREATED,
        "an external event (campaign, launch, pipeline change) was recorded",
        ("after",),
    ),
    LedgerAction(REGISTRY_EVENT_CHANGED, "an external event was edited", ("before", "after")),
    LedgerAction(REGISTRY_EVENT_REFUSED, "recording an external event was refused", ("models", "errors")),
    LedgerAction(
        REGISTRY_SERVICE_ACCOUNT_CREATED,
        "a service account and its token were issued",
        ("name", "token_prefix", "scope"),
    ),
    LedgerAction(
        REGISTRY_SERVICE_ACCOUNT_CHANGED,
        "a service account's scope or state was edited",
        ("name", "before", "after"),
        retired_aliases=("registry.serviceaccount.changed",),
    ),
    LedgerAction(
        REGISTRY_SERVICE_ACCOUNT_ROTATED,
        "a service account's token was replaced",
        ("name", "old_token_prefix", "token_prefix"),
    ),
    LedgerAction(
        REGISTRY_SERVICE_ACCOUNT_DEACTIVATED, "a service account was switched off", ("name", "token_prefix")
    ),
    LedgerAction(
        REGISTRY_SERVICE_ACCOUNT_REFUSED,
        "a service-account operation was refused",
        ("operation", "name", "reason"),
    ),
    LedgerAction(
        API_REFUSED,
        "an API write was refused (authentication, permission, validation)",
        ("method", "path", "status", "reason"),
    ),
    LedgerAction(
        MONITORS_BATCH_ACCEPTED,
        "a reference, production or label batch was stored",
        ("batch", "model", "kind", "rows", "posted_sha256", "stored_sha256"),
    ),
    LedgerAction(
        MONITORS_BATCH_REPOSTED,
        "the same bytes were posted again (idempotent, nothing stored)",
        ("batch", "model", "posted_sha256"),
    ),
    LedgerAction(
        MONITORS_BATCH_REFUSED,
        "a batch was refused whole (names rule, column, rows)",
        ("model", "kind", "posted_sha256", "errors"),
    ),
    LedgerAction(
        MONITORS_PROFILE_BUILT,
        "a reference profile was computed and stored",
        ("model", "version", "reference_sha256", "profile_sha256", "code_version"),
    ),
    LedgerAction(
        MONITORS_ARTEFACT_BUILT,
        "a reference artefact (subsample, distributions, holdout rows) was computed and stored",
        ("model", "version", "reference_sha256", "artefact_sha256", "code_version"),
    ),
    LedgerAction(
        MONITORS_RETENTION_PURGED,
        "batches and profiles were purged under retention",
        ("model", "batches", "profiles", "before"),
    ),
    LedgerAction(
        MONITORS_STORAGE_ORPHANS_SWEPT, "stored files no row refers to were removed", ("removed", "bytes")
    ),
    LedgerAction(
        MONITORS_LABELS_ORPHANED,
        "labels matched no production record within the deadline",
        ("model", "batch", "orphaned"),
    ),
    LedgerAction(CHECKS_RUN_SCHEDULED, "the sweep wrote a due check run", _RUN),
    LedgerAction(CHECKS_RUN_SUCCEEDED, "a check run finished with results", (*_RUN, "findings")),
    LedgerAction(CHECKS_RUN_FAILED, "a check run failed (its reason says why)", (*_RUN, "findings")),
    LedgerAction(
        CHECKS_RUN_SKIPPED, "a check run had nothing to check (its reason says why)", (*_RUN, "findings")
    ),
    LedgerAction(CHECKS_RUN_MISSED, "a due check was never run before its deadline", _RUN),
    LedgerAction(CHECKS_RUN_REQUEUED, "the reconciler re-enqueued a run left behind", _RUN),
    LedgerAction(
        CHECKS_RUN_RECOMPUTED,
        "a run was replayed from its stored inputs (a new revision)",
        (*_RUN, "supersedes", "differences"),
    ),
    LedgerAction(
        CHECKS_RUN_RECOMPUTE_REFUSED,
        "a recompute could not run (inputs purged)",
        ("run", "reason", "purge_entries"),
    ),
    LedgerAction(
        CHECKS_MODEL_UNPLANNED, "a model has no monitoring plan in force", (*_MODEL, "at", "reason")
    ),
    LedgerAction(
        CHECKS_SCHEDULES_INSTALLED,
        "the nightly sweep and reconciler schedules were installed",
        ("schedules",),
    ),
)

#: every current action by name
LEDGER_ACTIONS: Final = MappingProxyType({a.name: a for a in _CATALOGUE})
#: retired alias -> the current name of the same act
RETIRED_ALIASES: Final = MappingProxyType({alias: a.name for a in _CATALOGUE for alias in a.retired_aliases})

_RUN_FINISHED: Final = MappingProxyType(
    {"succeeded": CHECKS_RUN_SUCCEEDED, "failed": CHECKS_RUN_FAILED, "skipped": CHECKS_RUN_SKIPPED}
)
_SECTION_CREATED: Final = MappingProxyType({"plan": REGISTRY_PLAN_CREATED, "policy": REGISTRY_POLICY_CREATED})


def check_action(name: str) -> str:
    """``name`` if new entries may carry it; otherwise ``UnknownLedgerAction`` naming the fix."""
    if name in LEDGER_ACTIONS:
        return name
    if name in RETIRED_ALIASES:
        raise UnknownLedgerAction(f"ledger action {name!r} is retired: record {RETIRED_ALIASES[name]!r}")
    raise UnknownLedgerAction(
        f"ledger action {name!r} is not in the catalogue (vocabulary/ledger_actions.py): add it "
        "there with what it records and its payload keys"
    )


def names_for(name: str) -> tuple[str, ...]:
    """Every name an act has carried: the current name first, then its retired aliases. A filter
    on either a current name or an alias finds all of them."""
    current = RETIRED_ALIASES.get(name, name)
    action = LEDGER_ACTIONS.get(current)
    if action is None:
        check_action(name)
    assert action is not None
    return (action.name, *action.retired_aliases)


def run_finished(status: str) -> str:
    """The action that records a check run ending in ``status`` (succeeded, failed, skipped)."""
    return _RUN_FINISHED[status]


def section_created(kind: str) -> str:
    """The action that records a new plan or policy version (``kind`` is "plan" or "policy")."""
    return _SECTION_CREATED[kind]

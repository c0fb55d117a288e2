"""The registry's invariants, each written once.

Every write path reaches these through one service: the YAML apply, the REST API and the admin
all write models and versions with ``registry.services.model_apply``, which asks these
functions; the models' ``clean()`` asks the ones a single row can answer. Each function returns
``{key: message}`` (empty when all is well); the caller puts the key under its own path
(``versions[2].status`` in a document, the ``status`` field of an admin form), so that every
interface refuses with the same sentence.

People are named by username, as documents name them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vocabulary.roles import ALL_ROLES, MODEL_OWNER

#: statuses in which a version is monitored, and so must have been validated
MONITORED_STATUSES = ("approved", "production", "restricted")
#: statuses whose checks read the version's data, and so need a feature schema
CHECKED_STATUSES = ("production", "restricted")


def team_problems(team_name: str) -> dict[str, str]:
    if team_name in ALL_ROLES:
        return {"team": f"'{team_name}' is a role, not a team"}
    return {}


def owner_problems(owner: Any, team: Any) -> dict[str, str]:
    """The owner is one accountable, active person with the owner role, in the model's team."""
    if owner is None:
        return {}
    name = owner.get_username()
    if not owner.is_active:
        return {"owner": f"'{name}' is not an active user"}
    if not owner.groups.filter(name=MODEL_OWNER).exists():
        return {"owner": f"'{name}' does not have the {MODEL_OWNER} role"}
    if team is not None and not owner.groups.filter(pk=team.pk).exists():
        return {"owner": f"'{name}' is not a member of team '{team.name}'"}
    return {}


def validator_problems(*, developer: str | None, owner: str | None, validator: str | None) -> dict[str, str]:
    """The model's validator is independent of its developer and of its owner."""
    if developer and validator and developer == validator:
        return {
            "validator": f"'{validator}' is also the developer; the validator must be independent of "
            "the developer"
        }
    if owner and validator and owner == validator:
        return {"validator": f"'{validator}' owns this model; the validator must be independent of its owner"}
    return {}


def version_problems(
    *,
    state: Mapping[str, Any],
    stored: Mapping[str, Any] | None,
    developer: str | None,
    owner: str | None,
    has_schema: bool,
    policy_metric: str | None,
) -> dict[str, str]:
    """A version about to be written in ``state`` (the shape of ``version_snapshot``), against
    what is ``stored`` (None for a new version). ``policy_metric``: the performance metric of the
    retraining policy in force, whose validated baseline a production version needs (None: not
    known, nothing to check)."""
    label, status = state["label"], state["status"]
    problems: dict[str, str] = {}
    if stored is not None:
        if stored["artifact_sha256"] != state["artifact_sha256"]:
            problems["artifact_sha256"] = (
                f"version {label} is registered with artifact {stored['artifact_sha256'][:12]}...; a new "
                "artifact is a new version (give it a new label)"
            )
        if stored["status"] == "retired" and status != "retired":
            problems["status"] = (
                f"version {label} was retired on {stored['retired_at']} by {stored['retired_by']}; a "
                "retired version stays retired"
            )
        validation = (state["validated_by"], state["validated_at"])
        if stored["validated_at"] is not None and validation != (
            stored["validated_by"],
            stored["validated_at"],
        ):
            problems["validated_by"] = (
                f"version {label} was validated by {stored['validated_by']} on {stored['validated_at']}; "
                "a validation on record cannot change (register a new version)"
            )
        if stored["validated_at"] is not None and state["baseline_metrics"] != stored["baseline_metrics"]:
            problems["baseline_metrics"] = (
                f"version {label} was validated on {stored['validated_at']}; the baseline metrics signed "
                "off then cannot change (register a new version)"
            )
    for key, message in row_version_problems(state=state, developer=developer, owner=owner).items():
        problems.setdefault(key, message)
    if status in CHECKED_STATUSES and not has_schema:
        problems["features"] = (
            f"a {status} version is monitored and needs a feature schema: list its features"
        )
    baselines = {b["metric"] for b in state["baseline_metrics"]}
    if status == "production" and policy_metric is not None and policy_metric not in baselines:
        problems.setdefault(
            "baseline_metrics",
            f"a production version needs a validated baseline for the policy's performance metric "
            f"'{policy_metric}' (every check's first stage compares against it)",
        )
    return problems


def row_version_problems(
    *, state: Mapping[str, Any], developer: str | None, owner: str | None
) -> dict[str, str]:
    """What one version row can answer by itself: who validated it, and whether it had to be."""
    label, status, validated_by = state["label"], state["status"], state["validated_by"]
    if status in MONITORED_STATUSES and not (validated_by and state["validated_at"]):
        return {
            "validated_by": f"version {label} is {status}, so it must have been validated: give "
            "validated_by and validated_at"
        }
    return validated_by_problems(developer=developer, owner=owner, validated_by=validated_by)


def validated_by_problems(
    *, developer: str | None, owner: str | None, validated_by: str | None
) -> dict[str, str]:
    """A version is validated by someone independent of the model's developer and owner."""
    if validated_by and validated_by == developer:
        return {"validated_by": f"'{developer}' developed this model and cannot validate its versions"}
    if validated_by and validated_by == owner:
        return {"validated_by": f"'{owner}' owns this model and cannot validate its versions"}
    return {}


def one_champion_problem(champions: Sequence[str]) -> str | None:
    """``champions``: the labels that would be production champions at once."""
    if len(champions) > 1:
        return (
            f"a model has one champion in production at a time: {' and '.join(champions)} would both "
            "be; make one a challenger or retire it"
        )
    return None

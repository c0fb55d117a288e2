"""The admin's edits of models and versions, as documents for ``model_apply``.

The admin has no write path of its own for models and versions: a form's cleaned data becomes
the model's document (as ``model_export`` writes it, with the form's changes), which the form's
``clean()`` checks with a dry run of ``model_apply`` and ``save_model`` applies. So the admin,
the YAML apply and the REST API refuse with the same sentences, and record the same entries.
"""

from __future__ import annotations

from typing import Any

from django import forms

from registry.documents.export import model_export, username_of, version_snapshot
from registry.documents.fields import json_safe
from registry.documents.model_document import FORMAT
from registry.models import ModelVersion, MonitoredModel
from registry.services.errors import RegistryPermissionDenied, RegistryValidationError

MODEL_USER_FIELDS = ("owner", "developer", "validator", "accountable_executive")


def model_document(stored: MonitoredModel | None, data: dict[str, Any]) -> dict[str, Any]:
    """The document of ``stored`` (None: a new model) with the model fields in ``data`` (a form's
    cleaned data: users and the team as objects). Versions, plan and policy are left out, so
    ``model_apply`` leaves them as they are."""
    document: dict[str, Any] = (
        {k: v for k, v in model_export(stored).items() if k not in ("versions", "plan", "policy")}
        if stored is not None
        else {"format": FORMAT}
    )
    for key, value in data.items():
        if key in MODEL_USER_FIELDS:
            document[key] = username_of(value)
        elif key == "team":
            document[key] = value.name if value is not None else None
        else:
            document[key] = json_safe(value)
    if stored is None or data.get("risk_tier", stored.risk_tier) != stored.risk_tier:
        # a new tier is set by whoever applies it, now
        document.pop("risk_tier_set_by", None)
        document.pop("risk_tier_set_at", None)
    return {k: v for k, v in document.items() if v is not None}


def version_document(
    model: MonitoredModel, stored: ModelVersion | None, data: dict[str, Any], baselines: list[dict[str, Any]]
) -> dict[str, Any]:
    """The document of ``model`` listing one version: ``stored`` (None: a new one) with the
    fields in ``data`` and the baseline metrics ``baselines``. Other versions are left as they
    are; the schema of a stored version is kept (``model_apply`` keeps a schema not listed)."""
    document = {k: v for k, v in model_export(model).items() if k not in ("versions", "plan", "policy")}
    entry: dict[str, Any] = {
        k: v for k, v in (version_snapshot(stored) if stored is not None else {}).items() if v is not None
    }
    for key, value in data.items():
        if key == "model":
            continue
        entry[key] = username_of(value) if key == "validated_by" else json_safe(value)
    entry["baseline_metrics"] = sorted(baselines, key=lambda b: (b["metric"], b["holdout"]))
    document["versions"] = [{k: v for k, v in entry.items() if v not in (None, "")}]
    return document


def add_refusal(form: forms.BaseForm, error: RegistryValidationError | RegistryPermissionDenied) -> None:
    """Put a refusal's messages on the form: on the field its path ends in, else at the top.
    ``versions[0].status`` lands on ``status``."""
    for path, message in error.errors.items():
        name = path.rsplit(".", 1)[-1]
        form.add_error(name if name in form.fields else None, message)

"""The model document: one model, its versions, feature schemas, plan and policy, as YAML or JSON.

``manage.py register_model`` and the API read it, ``manage.py export_model`` writes it; the format
is documented key by key in ``docs/registry.md`` and illustrated in ``docs/examples/``.

This module knows the shape of a document and nothing of the database's state: it checks types,
keys, ranges and the rules that need only the document, and normalises it into
:class:`ModelDocument`. What needs the database (users, teams, the tier default, permissions,
versions already registered) is checked by ``registry.services``. Errors are a ``dict`` from a
dotted path (``versions[0].features[3].kind``) to a sentence naming the problem.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.documents.fields import (
    _ABSENT,
    DocumentInvalid,
    InvalidValue,
    Reader,
    _choices,
    boolean,
    choice,
    describe,
    integer,
    moment,
    number,
    optional,
    string,
    string_list,
    time_zone,
)
from registry.documents.yaml_lines import join
from registry.models import (
    CorrectionMethod,
    DecisionType,
    FeatureKind,
    LifecycleStatus,
    RiskTier,
    TaskType,
    VersionRole,
    WindowAlignment,
)
from registry.rules import MONITORED_STATUSES
from vocabulary.drift_tests import DRIFT_TEST_NAMES, drift_tests_for_kind, unknown_test_message
from vocabulary.metrics import TASK_METRICS

FORMAT = "fleetwatch.model/v1"

# --- the keys ----------------------------------------------------------------------------------

MODEL_REQUIRED = (
    "slug",
    "name",
    "decision_type",
    "task_type",
    "business_unit",
    "owner",
    "team",
    "risk_tier",
    "risk_tier_rationale",
)
MODEL_OPTIONAL = (
    "format",
    "uid",
    "description",
    "purpose",
    "approved_uses",
    "restrictions",
    "affects_natural_persons",
    "developer",
    "validator",
    "accountable_executive",
    "risk_tier_set_by",
    "risk_tier_set_at",
    "regulatory_scope",
    "personal_data",
    "legal_hold",
    "retention_days",
    "kpi_name",
    "kpi_reference_value",
    "versions",
    "plan",
    "policy",
)
VERSION_REQUIRED = ("label", "artifact_sha256", "status")
SCHEMA_KEYS = (
    "record_id_column",
    "timestamp_column",
    "target_column",
    "prediction_column",
    "score_columns",
    "query_id_column",
    "expected_rows_per_day",
    "features",
)
VERSION_OPTIONAL = (
    "role",
    "deployed_at",
    "validated_at",
    "validated_by",
    "retired_at",
    "retired_by",
    "baseline_metrics",
    *SCHEMA_KEYS,
)
BASELINE_REQUIRED = ("metric", "value", "holdout")
FEATURE_REQUIRED = ("name", "kind")
FEATURE_OPTIONAL = (
    "nullable",
    "min_value",
    "max_value",
    "categories",
    "importance",
    "is_key",
    "is_segment",
    "drift_test",
)
PLAN_FIELDS = (
    "drift_window_days",
    "performance_window_days",
    "window_alignment",
    "time_zone",
    "grace_hours",
    "label_maturity_days",
    "alpha",
    "correction",
    "min_sample_size",
    "drift_share_threshold",
    "thresholds",
)
POLICY_FIELDS = (
    "performance_metric",
    "performance_tolerance_abs",
    "performance_tolerance_rel",
    "confidence_level",
    "kpi_gate",
    "cooldown_days",
    "max_model_age_days",
    "approvals_required",
)
SECTION_REQUIRED = ("reason",)
SECTION_OPTIONAL = ("exception",)
THRESHOLD_REQUIRED = ("value", "rationale")
THRESHOLD_OPTIONAL = ("approver",)

# Drift tests by feature kind and the tests a plan may set thresholds for, from the shared table
# (vocabulary/drift_tests.py) that the statistics engine dispatches by. Every threshold is on an
# effect size or a distance, so lower is stricter for every one.
DRIFT_TESTS: dict[str, tuple[str, ...]] = {kind: drift_tests_for_kind(kind) for kind in FeatureKind.values}
THRESHOLD_TESTS = DRIFT_TEST_NAMES

SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
TAG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FEATURES = 2000
MAX_DAYS = 3660


# --- the normalised document ------------------------------------------------------------------


@dataclass
class VersionDocument:
    index: int
    label: str
    artifact_sha256: str
    status: str
    role: str
    # None: keep what is registered (or fill it in: deployed_at on going to production,
    # retired_at/retired_by on retiring).
    deployed_at: dt.datetime | None = None
    validated_at: dt.datetime | None = None
    validated_by: str | None = None
    retired_at: dt.datetime | None = None
    retired_by: str | None = None
    baseline_metrics: list[dict[str, Any]] | None = None  # None: keep what is registered
    schema: dict[str, Any] | None = None  # None: keep the current schema version


@dataclass
class SectionDocument:
    """A plan or a policy: the fields given (the rest come from the tier default), why, and the
    policy exception that allows a loosening, if any."""

    values: dict[str, Any]
    reason: str
    exception: int | None


@dataclass
class ModelDocument:
    uid: uuid.UUID | None
    fields: dict[str, Any]  # MonitoredModel's fields; users as usernames, the team as its name
    versions: list[VersionDocument] = field(default_factory=list)
    plan: SectionDocument | None = None
    policy: SectionDocument | None = None

    @property
    def usernames(self) -> set[str]:
        names = {
            self.fields[k]
            for k in ("owner", "developer", "validator", "accountable_executive", "risk_tier_set_by")
        }
        for version in self.versions:
            names |= {version.validated_by, version.retired_by}
        return {n for n in names if n}


username = string(max_length=150, blank=False)
column = string(
    max_length=100, blank=False, pattern=re.compile(r"^\S+$"), hint=": a column name has no spaces"
)
optional_column = string(max_length=100, pattern=re.compile(r"^\S*$"), hint=": a column name has no spaces")


# --- the sections -----------------------------------------------------------------------------


def read_document(data: Any) -> ModelDocument:
    """Check and normalise a parsed document; raise :class:`DocumentInvalid` with every problem
    found (not only the first)."""
    r = Reader()
    doc = _read_model(r, data)
    if r.errors or doc is None:
        raise DocumentInvalid(r.errors or {"(document)": "expected a model document"})
    return doc


def _read_model(r: Reader, data: Any) -> ModelDocument | None:
    if data is None:
        r.error("(document)", "the document is empty; expected a mapping with " + ", ".join(MODEL_REQUIRED))
        return None
    m = r.mapping(data, "", MODEL_REQUIRED, MODEL_OPTIONAL)
    if m is None:
        return None
    fmt = r.get(m, "format", "", string(), FORMAT)
    if fmt not in (FORMAT, _ABSENT):
        r.error("format", f"'{fmt}' is not a format this version reads; expected {FORMAT}")
    uid = r.get(m, "uid", "", optional(_uuid), None)
    text = string()
    fields: dict[str, Any] = {
        "slug": r.get(
            m,
            "slug",
            "",
            string(max_length=100, blank=False, pattern=SLUG, hint=": letters, digits, - and _ only"),
        ),
        "name": r.get(m, "name", "", string(max_length=200, blank=False)),
        "description": r.get(m, "description", "", text, ""),
        "purpose": r.get(m, "purpose", "", text, ""),
        "approved_uses": r.get(m, "approved_uses", "", text, ""),
        "restrictions": r.get(m, "restrictions", "", text, ""),
        "decision_type": r.get(m, "decision_type", "", choice(DecisionType.values)),
        "affects_natural_persons": r.get(m, "affects_natural_persons", "", boolean, False),
        "task_type": r.get(m, "task_type", "", choice(TaskType.values)),
        "business_unit": r.get(m, "business_unit", "", string(max_length=100, blank=False)),
        "owner": r.get(m, "owner", "", username),
        "team": r.get(m, "team", "", string(max_length=150, blank=False)),
        "developer": r.get(m, "developer", "", optional(username), None),
        "validator": r.get(m, "validator", "", optional(username), None),
        "accountable_executive": r.get(m, "accountable_executive", "", optional(username), None),
        "risk_tier": r.get(m, "risk_tier", "", choice(RiskTier.values)),
        "risk_tier_rationale": r.get(m, "risk_tier_rationale", "", string(blank=False)),
        "risk_tier_set_by": r.get(m, "risk_tier_set_by", "", optional(username), None),
        "risk_tier_set_at": r.get(m, "risk_tier_set_at", "", optional(moment), None),
        "regulatory_scope": r.get(
            m,
            "regulatory_scope",
            "",
            string_list(
                item=string(
                    max_length=64,
                    blank=False,
                    pattern=TAG,
                    hint=": tags are lowercase, e.g. eu-ai-act-high-risk",
                )
            ),
            [],
        ),
        "personal_data": r.get(m, "personal_data", "", boolean, False),
        "legal_hold": r.get(m, "legal_hold", "", boolean, False),
        "retention_days": r.get(m, "retention_days", "", integer(minimum=1, maximum=36500), 400),
        "kpi_name": r.get(m, "kpi_name", "", string(max_length=100), ""),
        "kpi_reference_value": r.get(m, "kpi_reference_value", "", optional(number()), None),
    }
    # Who may validate whom is judged where the registered state is known: registry.rules.
    if fields["kpi_reference_value"] not in (None, _ABSENT) and not fields["kpi_name"]:
        r.error("kpi_reference_value", "give kpi_name too: a reference value of what?")
    task_type = fields["task_type"]
    versions = _read_versions(r, m.get("versions", []), task_type) if "versions" in m else []
    plan = _read_section(r, m["plan"], "plan", read_plan_values) if "plan" in m else None
    policy = (
        _read_section(r, m["policy"], "policy", lambda r_, m_, p_: read_policy_values(r_, m_, p_, task_type))
        if "policy" in m
        else None
    )
    if r.errors:
        return None
    return ModelDocument(uid=uid, fields=fields, versions=versions, plan=plan, policy=policy)


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidValue(f"expected a UUID, got {describe(value)}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidValue(f"'{value}' is not a UUID") from None


def _read_versions(r: Reader, value: Any, task_type: Any) -> list[VersionDocument]:
    if value is None:
        return []
    if not isinstance(value, list):
        r.error("versions", f"expected a list of versions, got {describe(value)}")
        return []
    versions = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        path = join("versions", index)
        version = _read_version(r, item, path, index, task_type)
        if version is None:
            continue
        if version.label in seen:
            r.error(join(path, "label"), f"'{version.label}' is already versions[{seen[version.label]}]")
        seen[version.label] = index
        versions.append(version)
    return versions


def _read_version(r: Reader, value: Any, path: str, index: int, task_type: Any) -> VersionDocument | None:
    m = r.mapping(value, path, VERSION_REQUIRED, VERSION_OPTIONAL)
    if m is None:
        return None
    errors_before = len(r.errors)
    label = r.get(
        m, "label", path, string(max_length=64, blank=False, pattern=re.compile(r"^\S+$"), hint=": no spaces")
    )
    artifact = r.get(
        m, "artifact_sha256", path, string(blank=False, pattern=SHA256, hint=": 64 lowercase hex digits")
    )
    status = r.get(m, "status", path, choice(LifecycleStatus.values))
    role = r.get(m, "role", path, choice(VersionRole.values), "")
    if role and status not in (*MONITORED_STATUSES, _ABSENT):
        r.error(
            join(path, "role"),
            f"a {status} version cannot be {role}; only approved, "
            "production or restricted versions take a role",
        )
    version = VersionDocument(
        index=index,
        label=label,
        artifact_sha256=artifact,
        status=status,
        role=role,
        deployed_at=r.get(m, "deployed_at", path, optional(moment), None),
        validated_at=r.get(m, "validated_at", path, optional(moment), None),
        validated_by=r.get(m, "validated_by", path, optional(username), None),
        retired_at=r.get(m, "retired_at", path, optional(moment), None),
        retired_by=r.get(m, "retired_by", path, optional(username), None),
    )
    if "baseline_metrics" in m:
        version.baseline_metrics = _read_baselines(r, m["baseline_metrics"], join(path, "baseline_metrics"))
    schema_keys = [k for k in SCHEMA_KEYS if k in m]
    if schema_keys:
        if "features" not in m:
            r.error(
                join(path, "features"),
                f"missing required key: {schema_keys[0]} describes a schema, and a schema lists its features",
            )
        else:
            version.schema = _read_schema(r, m, path, task_type)
    if len(r.errors) > errors_before:
        return None
    return version


def _read_baselines(r: Reader, value: Any, path: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        r.error(path, f"expected a list of {{metric, value, holdout}}, got {describe(value)}")
        return []
    metrics = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value):
        item_path = join(path, index)
        m = r.mapping(item, item_path, BASELINE_REQUIRED, ())
        if m is None:
            continue
        entry = {
            "metric": r.get(m, "metric", item_path, string(max_length=50, blank=False)),
            "value": r.get(m, "value", item_path, number()),
            "holdout": r.get(m, "holdout", item_path, string(max_length=100, blank=False)),
        }
        if _ABSENT in entry.values():
            continue
        key = (entry["metric"], entry["holdout"])
        if key in seen:
            r.error(item_path, f"{entry['metric']} on {entry['holdout']} is given twice")
        seen.add(key)
        metrics.append(entry)
    return sorted(metrics, key=lambda e: (e["metric"], e["holdout"]))


def _read_schema(r: Reader, m: Mapping[str, Any], path: str, task_type: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "record_id_column": r.get(m, "record_id_column", path, column, "record_id"),
        "timestamp_column": r.get(m, "timestamp_column", path, column, "timestamp"),
        "target_column": r.get(m, "target_column", path, optional_column, ""),
        "prediction_column": r.get(m, "prediction_column", path, optional_column, ""),
        "score_columns": r.get(m, "score_columns", path, string_list(item=column), []),
        "query_id_column": r.get(m, "query_id_column", path, optional_column, ""),
        "expected_rows_per_day": r.get(m, "expected_rows_per_day", path, optional(integer(minimum=0)), None),
    }
    features_path = join(path, "features")
    raw = m["features"]
    features: list[dict[str, Any]] = []
    if not isinstance(raw, list) or not raw:
        r.error(features_path, f"expected a non-empty list of features, got {describe(raw)}")
    elif len(raw) > MAX_FEATURES:
        r.error(features_path, f"{len(raw)} features; at most {MAX_FEATURES}")
    else:
        for index, item in enumerate(raw):
            feature = _read_feature(r, item, join(features_path, index))
            if feature is not None:
                features.append(feature)
    schema["features"] = features
    if _ABSENT in schema.values():
        return schema
    _check_columns(r, schema, path, task_type)
    return schema


def _read_feature(r: Reader, value: Any, path: str) -> dict[str, Any] | None:
    m = r.mapping(value, path, FEATURE_REQUIRED, FEATURE_OPTIONAL)
    if m is None:
        return None
    kind = r.get(m, "kind", path, choice(FeatureKind.values))
    feature = {
        "name": r.get(m, "name", path, column),
        "kind": kind,
        "nullable": r.get(m, "nullable", path, boolean, True),
        "min_value": r.get(m, "min_value", path, optional(number()), None),
        "max_value": r.get(m, "max_value", path, optional(number()), None),
        "categories": r.get(
            m, "categories", path, optional(string_list(item=string(max_length=200, blank=False))), None
        ),
        "importance": r.get(m, "importance", path, number(minimum=0), 1.0),
        "is_key": r.get(m, "is_key", path, boolean, False),
        "is_segment": r.get(m, "is_segment", path, boolean, False),
        "drift_test": r.get(m, "drift_test", path, string(max_length=32), ""),
    }
    if _ABSENT in feature.values():
        return None
    if feature["categories"] is not None and kind != FeatureKind.CATEGORICAL:
        r.error(
            join(path, "categories"),
            f"categories apply to categorical features; '{feature['name']}' is {kind}",
        )
    if feature["categories"] == []:
        r.error(join(path, "categories"), "list at least one category, or leave the key out")
    for bound in ("min_value", "max_value"):
        if feature[bound] is not None and kind not in (FeatureKind.NUMERIC, FeatureKind.DATETIME):
            r.error(
                join(path, bound),
                f"{bound} applies to numeric and datetime features; '{feature['name']}' is {kind}",
            )
    low, high = feature["min_value"], feature["max_value"]
    if low is not None and high is not None and low > high:
        r.error(join(path, "min_value"), f"{low} exceeds max_value {high}")
    if feature["is_segment"] and kind not in (FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN):
        r.error(
            join(path, "is_segment"),
            f"only categorical or boolean features can be segment columns; '{feature['name']}' is {kind}",
        )
    test = feature["drift_test"]
    if test and test not in DRIFT_TEST_NAMES:
        r.error(join(path, "drift_test"), f"{unknown_test_message(test)}; or leave it out")
    elif test and test not in DRIFT_TESTS[kind]:
        allowed = _choices(DRIFT_TESTS[kind])
        r.error(
            join(path, "drift_test"),
            f"'{test}' does not apply to a {kind} feature; choose one of {allowed} or leave it out",
        )
    return feature


def _check_columns(r: Reader, schema: dict[str, Any], path: str, task_type: Any) -> None:
    if task_type in TaskType.values:
        if not schema["prediction_column"]:
            r.error(join(path, "prediction_column"), "every model's schema names its prediction column")
        if not schema["target_column"]:
            r.error(join(path, "target_column"), "name the column the labels arrive in")
        scores = schema["score_columns"]
        if task_type == TaskType.MULTICLASS and len(scores) < 2:
            r.error(
                join(path, "score_columns"),
                "a multiclass model lists one score column per class (at least two)",
            )
        if task_type == TaskType.BINARY and len(scores) > 1:
            r.error(join(path, "score_columns"), "a binary model has at most one score column")
        if task_type == TaskType.REGRESSION and scores:
            r.error(
                join(path, "score_columns"),
                "a regression model has no score columns; its prediction is the value",
            )
        if task_type == TaskType.RANKING and not schema["query_id_column"]:
            r.error(join(path, "query_id_column"), "a ranking model names its query id column")
        if task_type != TaskType.RANKING and schema["query_id_column"]:
            r.error(join(path, "query_id_column"), "only ranking models have a query id column")
    named: dict[str, str] = {}
    for key in (
        "record_id_column",
        "timestamp_column",
        "target_column",
        "prediction_column",
        "query_id_column",
    ):
        if schema[key]:
            if schema[key] in named:
                r.error(join(path, key), f"'{schema[key]}' is already the {named[schema[key]]}")
            named.setdefault(schema[key], key)
    for index, name in enumerate(schema["score_columns"]):
        if name in named:
            r.error(join(join(path, "score_columns"), index), f"'{name}' is already the {named[name]}")
        named.setdefault(name, "score column")
    for index, feature in enumerate(schema["features"]):
        name = feature["name"]
        if name in named:
            r.error(
                join(join(join(path, "features"), index), "name"), f"'{name}' is already the {named[name]}"
            )
        named.setdefault(name, f"feature features[{index}]")
    if schema["features"] and not any(f["importance"] > 0 for f in schema["features"]):
        r.error(
            join(path, "features"),
            "at least one feature needs an importance above 0 (drift share is weighted by importance)",
        )


def _read_section(
    r: Reader, value: Any, path: str, read_values: Callable[[Reader, Mapping[str, Any], str], dict[str, Any]]
) -> SectionDocument | None:
    fields = PLAN_FIELDS if path == "plan" else POLICY_FIELDS
    m = r.mapping(value, path, SECTION_REQUIRED, SECTION_OPTIONAL + fields)
    if m is None:
        return None
    reason = r.get(m, "reason", path, string(blank=False))
    exception = r.get(m, "exception", path, optional(integer(minimum=1)), None)
    values = {k: v for k, v in read_values(r, m, path).items() if v is not _ABSENT}
    if reason is _ABSENT or exception is _ABSENT:
        return None
    return SectionDocument(values=values, reason=reason, exception=exception)


def read_plan_values(r: Reader, m: Mapping[str, Any], path: str) -> dict[str, Any]:
    days = integer(minimum=1, maximum=MAX_DAYS)
    values = {
        "drift_window_days": r.get(m, "drift_window_days", path, days),
        "performance_window_days": r.get(m, "performance_window_days", path, days),
        "window_alignment": r.get(m, "window_alignment", path, choice(WindowAlignment.values)),
        "time_zone": r.get(m, "time_zone", path, time_zone),
        "grace_hours": r.get(m, "grace_hours", path, integer(minimum=0, maximum=24 * 92)),
        "label_maturity_days": r.get(m, "label_maturity_days", path, integer(minimum=0, maximum=MAX_DAYS)),
        "alpha": r.get(m, "alpha", path, number(above=0, maximum=0.5)),
        "correction": r.get(m, "correction", path, choice(CorrectionMethod.values)),
        "min_sample_size": r.get(m, "min_sample_size", path, integer(minimum=1, maximum=100_000_000)),
        "drift_share_threshold": r.get(m, "drift_share_threshold", path, number(above=0, maximum=1)),
    }
    if "thresholds" in m:
        values["thresholds"] = _read_thresholds(r, m["thresholds"], join(path, "thresholds"))
    return values


def _read_thresholds(r: Reader, value: Any, path: str) -> Any:
    if value is None:
        return {}
    m = r.mapping(value, path, (), THRESHOLD_TESTS)
    if m is None:
        return _ABSENT
    thresholds = {}
    for test, entry in m.items():
        if test not in THRESHOLD_TESTS:
            continue
        entry_path = join(path, test)
        e = r.mapping(entry, entry_path, THRESHOLD_REQUIRED, THRESHOLD_OPTIONAL)
        if e is None:
            continue
        parsed = {
            "value": r.get(e, "value", entry_path, number(above=0)),
            "rationale": r.get(e, "rationale", entry_path, string(blank=False)),
            "approver": r.get(e, "approver", entry_path, string(max_length=150), ""),
        }
        if _ABSENT not in parsed.values():
            thresholds[test] = parsed
    return dict(sorted(thresholds.items()))


def read_policy_values(r: Reader, m: Mapping[str, Any], path: str, task_type: Any) -> dict[str, Any]:
    metrics = TASK_METRICS.get(task_type, tuple(sorted({x for v in TASK_METRICS.values() for x in v})))
    return {
        "performance_metric": r.get(m, "performance_metric", path, choice(metrics)),
        "performance_tolerance_abs": r.get(m, "performance_tolerance_abs", path, number(minimum=0)),
        "performance_tolerance_rel": r.get(
            m, "performance_tolerance_rel", path, number(minimum=0, maximum=1)
        ),
        "confidence_level": r.get(m, "confidence_level", path, number(minimum=0.5, below=1)),
        "kpi_gate": r.get(m, "kpi_gate", path, optional(number(above=0, maximum=1))),
        "cooldown_days": r.get(m, "cooldown_days", path, integer(minimum=0, maximum=MAX_DAYS)),
        "max_model_age_days": r.get(m, "max_model_age_days", path, integer(minimum=1, maximum=MAX_DAYS * 3)),
        "approvals_required": r.get(m, "approvals_required", path, integer(minimum=0, maximum=5)),
    }

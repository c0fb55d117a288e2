"""The model document: one model, its versions, feature schemas, plan and policy, as YAML or JSON.

``manage.py register_model`` and the API read it, ``manage.py export_model`` writes it; the format
is documented key by key in ``docs/registry.md`` and illustrated in ``docs/examples/``.

This module knows the shape of a document and nothing of the database's state: it parses YAML
(keeping each key's line), checks types, keys, ranges and the rules that need only the document,
and normalises it into :class:`ModelDocument`. What needs the database (users, teams, the tier
default, permissions, versions already registered) is checked by ``registry.services``. Errors
are a ``dict`` from a dotted path (``versions[0].features[3].kind``) to a sentence naming the
problem.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import re
import uuid
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785
import yaml
from django.utils.dateparse import parse_date, parse_datetime

from registry import selectors
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
from registry.strictness import TASK_METRICS
from vocabulary.drift_tests import DRIFT_TEST_NAMES, drift_tests_for_kind, unknown_test_message

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

MONITORED_STATUSES = (LifecycleStatus.APPROVED, LifecycleStatus.PRODUCTION, LifecycleStatus.RESTRICTED)
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
TAG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FEATURES = 2000
MAX_DAYS = 3660


class DocumentSyntaxError(ValueError):
    """The text is not YAML (or not one YAML document); ``line`` is 1-based, or None."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# --- YAML with line numbers ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedYAML:
    data: Any
    lines: dict[str, int]  # dotted path -> 1-based line of its key (or item)

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or of its nearest ancestor that exists in the file."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = _parent(path)


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parse_yaml(text: str) -> ParsedYAML:
    """Parse one YAML document, remembering the line of every key and list item.

    Duplicate keys, which PyYAML would silently resolve to the last, are an error here.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedYAML(None, {})
        lines: dict[str, int] = {"": node.start_mark.line + 1}
        _map_lines(node, "", lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise DocumentSyntaxError(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"not valid YAML: {exc}", None) from exc
    finally:
        loader.dispose()
    return ParsedYAML(data, lines)


def _map_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = join(path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise DocumentSyntaxError(
                    f"{child}: duplicate key (first given on line {seen[key_node.value]})", line
                )
            seen[key_node.value] = line
            lines[child] = line
            _map_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = join(path, index)
            lines[child] = item.start_mark.line + 1
            _map_lines(item, child, lines)


def dump_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(
        dict(document), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


# --- canonical content ------------------------------------------------------------------------


def content_sha256(content: Any) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of ``content`` (schemas, plans, policies)."""
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def json_safe(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC strings, UUIDs as strings, tuples as lists; the rest as is."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


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


class DocumentInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- reading values ---------------------------------------------------------------------------


class InvalidValue(ValueError):
    """One value is wrong; the message is the sentence to show after its path."""


_ABSENT: Any = object()


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ('{shown}')"
    if isinstance(value, dt.datetime | dt.date):
        return f"a date ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _choices(values: Iterable[str]) -> str:
    return ", ".join(v for v in values if v) or "(none)"


class Reader:
    """Collects errors while it reads; every ``get_*`` returns a normalised value or ``_ABSENT``
    when the value is missing or wrong (and the error is recorded)."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def mapping(
        self, value: Any, path: str, required: Iterable[str], optional: Iterable[str]
    ) -> dict[str, Any] | None:
        required, optional = tuple(required), tuple(optional)
        if not isinstance(value, dict):
            self.error(path or "(document)", f"expected a mapping, got {describe(value)}")
            return None
        allowed = required + optional
        for key in value:
            if not isinstance(key, str):
                self.error(join(path, str(key)), f"keys are names, got {describe(key)}")
            elif key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.error(join(path, key), f"unknown key{suggestion}; expected one of {', '.join(allowed)}")
        for key in required:
            if key not in value:
                self.error(join(path, key), "missing required key")
        return value

    def get(
        self, m: Mapping[str, Any], key: str, path: str, parse: Callable[[Any], Any], default: Any = _ABSENT
    ) -> Any:
        if key not in m:
            return default
        try:
            return parse(m[key])
        except InvalidValue as exc:
            self.error(join(path, key), str(exc))
            return _ABSENT


# Parsers: value -> normalised value, or raise InvalidValue with the sentence to show.


def string(
    *,
    max_length: int | None = None,
    blank: bool = True,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value is None and blank:
            return ""
        if not isinstance(value, str):
            raise InvalidValue(f"expected a string, got {describe(value)}")
        value = value.strip() if pattern else value
        if not value and not blank:
            raise InvalidValue("must not be empty")
        if max_length is not None and len(value) > max_length:
            raise InvalidValue(f"at most {max_length} characters, got {len(value)}")
        if pattern is not None and value and not pattern.match(value):
            raise InvalidValue(f"'{value}' is not valid{hint}")
        return value

    return parse


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse_optional(value: Any) -> Any:
        return None if value is None or value == "" else parse(value)

    return parse_optional


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"expected true or false, got {describe(value)}")
    return value


def integer(*, minimum: int = 0, maximum: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise InvalidValue(f"expected a whole number, got {describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise InvalidValue(f"{value} is out of range: at least {minimum}{upper}")
        return int(value)

    return parse


def number(
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue(f"expected a number, got {describe(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise InvalidValue(f"expected a finite number, got {value}")
        bounds = []
        if minimum is not None and value < minimum:
            bounds.append(f"at least {minimum}")
        if above is not None and value <= above:
            bounds.append(f"above {above}")
        if maximum is not None and value > maximum:
            bounds.append(f"at most {maximum}")
        if below is not None and value >= below:
            bounds.append(f"below {below}")
        if bounds:
            raise InvalidValue(f"{value} is out of range: must be {' and '.join(bounds)}")
        return value

    return parse


def choice(choices: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(choices)

    def parse(value: Any) -> str:
        if value is None and "" in allowed:
            return ""
        if not isinstance(value, str) or value not in allowed:
            shown = f"'{value}'" if isinstance(value, str) else describe(value)
            raise InvalidValue(f"{shown} is not one of {_choices(allowed)}")
        return value

    return parse


def moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    elif isinstance(value, str):
        try:
            day = parse_date(value.strip())
            parsed = (
                dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
                if day is not None
                else parse_datetime(value.strip())
            )
        except ValueError:
            parsed = None
        if parsed is None:
            raise InvalidValue(f"'{value}' is not a date-time; write e.g. 2025-01-31T09:00:00Z")
    else:
        raise InvalidValue(f"expected a date-time, got {describe(value)}")
    assert parsed is not None
    if parsed.tzinfo is None:
        raise InvalidValue(f"{value} has no time zone; write e.g. 2025-01-31T09:00:00Z")
    return parsed.astimezone(dt.UTC)


def string_list(*, item: Callable[[Any], str], unique: bool = True) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidValue(f"expected a list, got {describe(value)}")
        result = []
        for index, entry in enumerate(value):
            try:
                result.append(item(entry))
            except InvalidValue as exc:
                raise InvalidValue(f"item {index}: {exc}") from None
        if unique and len(set(result)) != len(result):
            repeated = sorted({v for v in result if result.count(v) > 1})
            raise InvalidValue(f"repeats {', '.join(repeated)}")
        return result

    return parse


def time_zone(value: Any) -> str:
    name = string(max_length=64, blank=False)(value)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"'{name}' is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
    return name


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
    developer, validator = fields["developer"], fields["validator"]
    if developer and validator and developer == validator and developer is not _ABSENT:
        r.error(
            "validator",
            f"'{validator}' is also the developer; the validator must be independent of the developer",
        )
    if fields["kpi_reference_value"] not in (None, _ABSENT) and not fields["kpi_name"]:
        r.error("kpi_reference_value", "give kpi_name too: a reference value of what?")
    task_type = fields["task_type"]
    versions = _read_versions(r, m.get("versions", []), task_type, developer) if "versions" in m else []
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


def _read_versions(r: Reader, value: Any, task_type: Any, developer: Any) -> list[VersionDocument]:
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
        if developer and version.validated_by == developer:
            r.error(
                join(path, "validated_by"),
                f"'{developer}' developed this model and cannot validate its versions",
            )
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


# --- snapshots and export ---------------------------------------------------------------------
# One JSON-safe shape serves the export, the ledger's before/after and the comparison that makes
# an unchanged document change nothing.


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def model_fields_snapshot(model: Any) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "name": model.name,
        "description": model.description,
        "purpose": model.purpose,
        "approved_uses": model.approved_uses,
        "restrictions": model.restrictions,
        "decision_type": model.decision_type,
        "affects_natural_persons": model.affects_natural_persons,
        "task_type": model.task_type,
        "business_unit": model.business_unit,
        "owner": _username(model.owner),
        "team": model.team.name,
        "developer": _username(model.developer),
        "validator": _username(model.validator),
        "accountable_executive": _username(model.accountable_executive),
        "risk_tier": model.risk_tier,
        "risk_tier_rationale": model.risk_tier_rationale,
        "risk_tier_set_by": _username(model.risk_tier_set_by),
        "risk_tier_set_at": iso(model.risk_tier_set_at),
        "regulatory_scope": list(model.regulatory_scope or []),
        "personal_data": model.personal_data,
        "legal_hold": model.legal_hold,
        "retention_days": model.retention_days,
        "kpi_name": model.kpi_name,
        "kpi_reference_value": model.kpi_reference_value,
    }


def version_snapshot(version: Any) -> dict[str, Any]:
    return {
        "label": version.label,
        "artifact_sha256": version.artifact_sha256,
        "status": version.status,
        "role": version.role,
        "deployed_at": iso(version.deployed_at),
        "validated_at": iso(version.validated_at),
        "validated_by": _username(version.validated_by),
        "retired_at": iso(version.retired_at),
        "retired_by": _username(version.retired_by),
        "baseline_metrics": sorted(
            (
                {"metric": b.metric, "value": b.value, "holdout": b.holdout}
                for b in version.baseline_metrics.all()
            ),
            key=lambda e: (e["metric"], e["holdout"]),
        ),
    }


def schema_content(schema: Any) -> dict[str, Any]:
    """What a schema's ``content_sha256`` covers, in document form."""
    return {
        "record_id_column": schema.record_id_column,
        "timestamp_column": schema.timestamp_column,
        "target_column": schema.target_column,
        "prediction_column": schema.prediction_column,
        "score_columns": list(schema.score_columns or []),
        "query_id_column": schema.query_id_column,
        "expected_rows_per_day": schema.expected_rows_per_day,
        "features": [feature_content(f) for f in schema.features.all()],
    }


def feature_content(feature: Any) -> dict[str, Any]:
    return {
        "name": feature.name,
        "kind": feature.kind,
        "nullable": feature.nullable,
        "min_value": feature.min_value,
        "max_value": feature.max_value,
        "categories": list(feature.categories) if feature.categories is not None else None,
        "importance": feature.importance,
        "is_key": feature.is_key,
        "is_segment": feature.is_segment,
        "drift_test": feature.drift_test,
    }


def plan_content(plan: Any) -> dict[str, Any]:
    """What a plan's ``content_sha256`` covers: its fields, not who, why or which number."""
    content = {name: getattr(plan, name) for name in PLAN_FIELDS}
    content["thresholds"] = {
        test: {
            "value": float(e["value"]),
            "rationale": e.get("rationale", ""),
            "approver": e.get("approver", ""),
        }
        for test, e in sorted((plan.thresholds or {}).items())
    }
    return content


def policy_content(policy: Any) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def _section_export(row: Any, content: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {"reason": row.reason}
    if row.exception_id is not None:
        section["exception"] = row.exception_id
    section.update(content)
    return section


# What an export leaves out because reading the document gives the same value back.
SCHEMA_DEFAULTS: dict[str, Any] = {
    "record_id_column": "record_id",
    "timestamp_column": "timestamp",
    "target_column": "",
    "prediction_column": "",
    "score_columns": [],
    "query_id_column": "",
    "expected_rows_per_day": None,
}
FEATURE_DEFAULTS: dict[str, Any] = {
    "nullable": True,
    "min_value": None,
    "max_value": None,
    "categories": None,
    "importance": 1.0,
    "is_key": False,
    "is_segment": False,
    "drift_test": "",
}


def _compact_feature(feature: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in feature.items() if k not in FEATURE_DEFAULTS or FEATURE_DEFAULTS[k] != v}


def model_export(model: Any) -> dict[str, Any]:
    """The document that registers ``model`` as it is now (JSON-safe; YAML via ``dump_yaml``).

    Plans and policies appear only when the model has its own in force; a model on its tier's
    defaults exports none, and registering the export elsewhere leaves it on the defaults there.
    """
    fields = model_fields_snapshot(model)
    document: dict[str, Any] = {"format": FORMAT, "uid": str(model.uid)}
    document.update({k: v for k, v in fields.items() if v not in (None, "")})
    versions = []
    for version in model.versions.order_by("created_at", "pk"):
        entry = {k: v for k, v in version_snapshot(version).items() if v not in (None, "")}
        schema = selectors.schema_current_or_none(version)
        if schema is not None:
            content = schema_content(schema)
            content["features"] = [_compact_feature(f) for f in content["features"]]
            entry.update(
                {k: v for k, v in content.items() if k not in SCHEMA_DEFAULTS or SCHEMA_DEFAULTS[k] != v}
            )
        versions.append(entry)
    document["versions"] = versions
    plan = selectors.plan_in_force(model)
    if plan.model_id is not None:
        document["plan"] = _section_export(plan, plan_content(plan))
    policy = selectors.policy_in_force(model)
    if policy.model_id is not None:
        document["policy"] = _section_export(policy, policy_content(policy))
    return document

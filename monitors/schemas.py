"""What columns a batch must have, read from the registry's feature schemas.

A production batch carries rows of every serving version (champion and challengers); its columns
are the union of those versions' current schemas, and a column declared differently by two of
them is a conflict. Reference batches follow their version's schema; label batches the target
column of the model's champion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from monitors.stats.schema import FeatureSpec, ProfileSchema
from registry.models import (
    FeatureSchema,
    ModelVersion,
    MonitoredModel,
    TaskType,
)
from registry.selectors import champion, schema_current_or_none

# Column roles beside the features.
RECORD_ID = "record_id"
TIMESTAMP = "timestamp"
VERSION = "version"
TARGET = "target"
PREDICTION = "prediction"
SCORE = "score"
SPLIT = "split"
LABEL_TIMESTAMP = "label_timestamp"
FEATURE = "feature"

SPLIT_COLUMN = "split"
SPLIT_VALUES = ("train", "validation", "holdout")
LABEL_TIMESTAMP_COLUMN = "label_timestamp"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # numeric | categorical | boolean | datetime | text
    role: str
    required: bool = True
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    categories: tuple[str, ...] | None = None

    def declaration(self) -> tuple[str, str]:
        return (self.kind, self.role)


@dataclass(frozen=True)
class BatchLayout:
    """The columns a batch may have, in the order the stored Parquet keeps them."""

    columns: tuple[ColumnSpec, ...]
    record_id: str | None = None
    timestamp: str | None = None
    version: str | None = None
    target: str | None = None
    schemas: dict[str, FeatureSchema] = field(default_factory=dict)  # version label -> schema

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def version_column() -> str:
    return str(settings.FLEETWATCH_VERSION_LABEL_COLUMN)


def _outcome_kind(model: MonitoredModel, schema: FeatureSchema, name: str) -> str:
    spec = schema.features.filter(name=name).first()
    if spec is not None:
        return spec.kind
    return "categorical" if model.task_type == TaskType.MULTICLASS else "numeric"


def _feature_columns(schema: FeatureSchema) -> list[ColumnSpec]:
    return [
        ColumnSpec(
            name=f.name,
            kind=f.kind,
            role=FEATURE,
            nullable=f.nullable,
            min_value=f.min_value,
            max_value=f.max_value,
            categories=tuple(str(c) for c in f.categories) if f.categories else None,
        )
        for f in schema.features.order_by("position")
    ]


def _outputs(model: MonitoredModel, schema: FeatureSchema, *, with_target: bool) -> list[ColumnSpec]:
    columns = []
    if with_target and schema.target_column:
        columns.append(
            ColumnSpec(schema.target_column, _outcome_kind(model, schema, schema.target_column), TARGET)
        )
    if schema.prediction_column:
        columns.append(
            ColumnSpec(
                schema.prediction_column, _outcome_kind(model, schema, schema.prediction_column), PREDICTION
            )
        )
    for name in schema.score_columns or ():
        columns.append(ColumnSpec(str(name), "numeric", SCORE))
    return columns


def reference_layout(model: MonitoredModel, version: ModelVersion, schema: FeatureSchema) -> BatchLayout:
    columns = _feature_columns(schema) + _outputs(model, schema, with_target=True)
    columns.append(ColumnSpec(SPLIT_COLUMN, "categorical", SPLIT, nullable=False, categories=SPLIT_VALUES))
    # A reference may keep its record ids and timestamps; they are not required.
    columns.append(ColumnSpec(schema.record_id_column, "text", RECORD_ID, required=False))
    columns.append(ColumnSpec(schema.timestamp_column, "datetime", TIMESTAMP, required=False))
    return BatchLayout(
        columns=_dedupe(columns), target=schema.target_column or None, schemas={version.label: schema}
    )


def production_layout(model: MonitoredModel, schemas: dict[str, FeatureSchema]) -> BatchLayout:
    """The union of the given versions' schemas; raises ``SchemaConflict`` on disagreement."""
    first = next(iter(schemas.values()))
    record_id, timestamp = first.record_id_column, first.timestamp_column
    columns: list[ColumnSpec] = [
        ColumnSpec(record_id, "text", RECORD_ID, nullable=False),
        ColumnSpec(timestamp, "datetime", TIMESTAMP, nullable=False),
        ColumnSpec(version_column(), "text", VERSION, nullable=False),
    ]
    seen = {c.name: c for c in columns}
    for label, schema in schemas.items():
        if (schema.record_id_column, schema.timestamp_column) != (record_id, timestamp):
            raise SchemaConflict(schema.record_id_column, label)
        for spec in _feature_columns(schema) + _outputs(model, schema, with_target=False):
            known = seen.get(spec.name)
            if known is None:
                seen[spec.name] = spec
                columns.append(spec)
            elif known.declaration() != spec.declaration():
                raise SchemaConflict(spec.name, label)
    return BatchLayout(
        columns=tuple(columns),
        record_id=record_id,
        timestamp=timestamp,
        version=version_column(),
        schemas=dict(schemas),
    )


def labels_layout(model: MonitoredModel, schema: FeatureSchema) -> BatchLayout:
    if not schema.target_column:
        raise SchemaConflict("", "")
    columns = (
        ColumnSpec(schema.record_id_column, "text", RECORD_ID, nullable=False),
        ColumnSpec(schema.target_column, _outcome_kind(model, schema, schema.target_column), TARGET),
        ColumnSpec(LABEL_TIMESTAMP_COLUMN, "datetime", LABEL_TIMESTAMP, required=False, nullable=False),
    )
    return BatchLayout(
        columns=columns,
        record_id=schema.record_id_column,
        timestamp=LABEL_TIMESTAMP_COLUMN,
        target=schema.target_column,
    )


def _dedupe(columns: Iterable[ColumnSpec]) -> tuple[ColumnSpec, ...]:
    out: dict[str, ColumnSpec] = {}
    for spec in columns:
        out.setdefault(spec.name, spec)
    return tuple(out.values())


class SchemaConflict(Exception):
    def __init__(self, column: str, version_label: str) -> None:
        super().__init__(column)
        self.column = column
        self.version_label = version_label


def model_schema(model: MonitoredModel) -> FeatureSchema | None:
    """The schema that names the model's record id and target columns: the champion's, else the
    newest of any version."""
    version = champion(model)
    schema = schema_current_or_none(version) if version is not None else None
    if schema is None:
        schema = (
            FeatureSchema.objects.filter(version__model=model)
            .order_by("-version__created_at", "-number")
            .first()
        )
    return schema


def profile_schema(schema: FeatureSchema) -> ProfileSchema:
    """The statistics engine's ``ProfileSchema`` for a registry schema. It lives here, not in the
    registry, because dependencies point one way: monitors knows the registry, never the reverse."""
    features = tuple(
        FeatureSpec(
            name=f.name,
            kind=f.kind,
            nullable=f.nullable,
            min_value=f.min_value,
            max_value=f.max_value,
            categories=tuple(str(c) for c in f.categories)
            if f.categories and f.kind == "categorical"
            else None,
            importance=f.importance,
            is_key=f.is_key,
            is_segment=f.is_segment,
            test=f.drift_test or None,
        )
        for f in schema.features.order_by("position")
    )
    return ProfileSchema(features=features, expected_rows_per_day=schema.expected_rows_per_day)

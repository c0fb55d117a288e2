"""Data for the demo fleet: a reference per production champion and a few days of scored traffic,
generated here (never downloaded) and ingested through the same service the API uses.

Every fourth model gets a shift in its three most important features on the last day, so the
nightly checks have something real to find; the rest stay on their reference distribution.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from audit.ledger import Actor
from monitors.ingest.errors import IngestRefusal
from monitors.ingest.services import batch_ingest
from monitors.schemas import version_column
from registry.models import FeatureSchema, ModelVersion, MonitoredModel, TaskType
from registry.selectors import production_versions, schema_current_or_none
from simulation.synthetic import feature_columns


@dataclass
class DemoDataReport:
    models: int = 0
    batches: int = 0
    rows: int = 0
    drifted_models: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _outputs(
    model: MonitoredModel, schema: FeatureSchema, rows: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Target, prediction and scores shaped as the model's task type declares them."""
    columns: dict[str, np.ndarray] = {}
    scores = [str(name) for name in schema.score_columns or ()]
    if model.task_type == TaskType.MULTICLASS:
        classes = [name.removeprefix("score_") for name in scores] or ["a", "b", "c"]
        logits = rng.normal(0.0, 1.0, (rows, len(classes)))
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        labels = np.array(classes, dtype=object)
        columns[schema.prediction_column] = labels[probabilities.argmax(axis=1)]
        drawn = (probabilities.cumsum(axis=1) > rng.random((rows, 1))).argmax(axis=1)
        columns[schema.target_column] = labels[drawn]
        for name, column in zip(scores, probabilities.T, strict=False):
            columns[name] = column
    elif model.task_type == TaskType.REGRESSION:
        truth = rng.lognormal(5.0, 0.4, rows)
        columns[schema.target_column] = truth
        columns[schema.prediction_column] = truth * rng.normal(1.0, 0.15, rows)
    else:  # binary and ranking/CTR: a probability, a decision (or rank score) and a 0/1 outcome
        score = 1.0 / (1.0 + np.exp(-rng.normal(-1.0, 1.2, rows)))
        columns[schema.target_column] = (rng.random(rows) < score).astype(float)
        columns[schema.prediction_column] = (score >= 0.5).astype(float)
        for name in scores:
            columns[name] = score
    return {name: values for name, values in columns.items() if name}


def _parquet(frame: pd.DataFrame) -> io.BytesIO:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return buffer


def _reference(
    model: MonitoredModel, schema: FeatureSchema, *, rows: int, seed: int, dates: tuple[datetime, datetime]
) -> pd.DataFrame:
    features = list(schema.features.order_by("position"))
    # Each stream gets its own seed sequence: reusing ``seed`` for the outputs and the split
    # would replay the feature generator's draws and tie the split to the features.
    rng = np.random.default_rng([seed, 1])
    frame = pd.DataFrame(feature_columns(features, rows=rows, seed=seed, start=dates[0], end=dates[1]))
    for name, values in _outputs(model, schema, rows, rng).items():
        frame[name] = values
    frame["split"] = rng.choice(
        np.array(["train", "validation", "holdout"], dtype=object), size=rows, p=[0.6, 0.2, 0.2]
    )
    return frame


def _production(
    model: MonitoredModel,
    version: ModelVersion,
    schema: FeatureSchema,
    *,
    rows: int,
    seed: int,
    day: datetime,
    drift: dict[str, float],
    dates: tuple[datetime, datetime],
) -> pd.DataFrame:
    features = list(schema.features.order_by("position"))
    rng = np.random.default_rng([seed, 2])
    columns = feature_columns(features, rows=rows, seed=seed, drift=drift, start=dates[0], end=dates[1])
    offsets = np.sort(rng.uniform(0, 86_400, rows))
    frame = pd.DataFrame(
        {
            schema.record_id_column: [
                f"{model.slug}-{version.label}-{day:%Y%m%d}-{i:06d}" for i in range(rows)
            ],
            schema.timestamp_column: pd.Timestamp(day) + pd.to_timedelta(offsets, unit="s"),
            version_column(): version.label,
        }
    )
    for name, values in columns.items():
        frame[name] = values
    outputs = _outputs(model, schema, rows, rng)
    outputs.pop(schema.target_column, None)  # labels arrive later, in their own batch
    for name, values in outputs.items():
        frame[name] = values
    return frame


def demo_data_ingest(
    *,
    now: datetime,
    days: int = 3,
    rows_per_day: int = 3000,
    reference_rows: int = 8000,
    challenger_share: float = 0.25,
    sender: Actor,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoDataReport:
    """Ingest a reference per production version and ``days`` daily production batches (ending at
    midnight UTC before ``now``; challengers get ``challenger_share`` of the champion's traffic)
    for every model in production. Idempotent: re-posting the same bytes returns the batch
    already stored, so a second run adds nothing."""
    report = DemoDataReport()
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Datetime features are drawn from one fixed year for reference and production alike, so that
    # only the shifts made on purpose show up as drift.
    dates = (end - timedelta(days=365 + days), end - timedelta(days=days))
    for index, model in enumerate(MonitoredModel.objects.order_by("slug")):
        drifted = index % 4 == 0
        batches: list[tuple[str, ModelVersion, pd.DataFrame]] = []
        for rank, version in enumerate(production_versions(model)):
            schema = schema_current_or_none(version)
            if schema is None:
                report.skipped.append(f"{model.slug}@{version.label}: no feature schema")
                continue
            seed = 1_000 * (index + 1) + 100 * rank
            rows = rows_per_day if rank == 0 else max(int(rows_per_day * challenger_share), 1)
            batches.append(
                ("reference", version, _reference(model, schema, rows=reference_rows, seed=seed, dates=dates))
            )
            key = sorted(schema.features.all(), key=lambda f: -f.importance)[:3]
            for day in range(days, 0, -1):
                shift = {f.name: 1.0 for f in key} if drifted and day == 1 else {}
                batches.append(
                    (
                        "production",
                        version,
                        _production(
                            model,
                            version,
                            schema,
                            rows=rows,
                            seed=seed + day,
                            day=end - timedelta(days=day),
                            drift=shift,
                            dates=dates,
                        ),
                    )
                )
        if not batches:
            report.skipped.append(f"{model.slug}: nothing in production")
            continue
        for kind, version, frame in batches:
            try:
                result = batch_ingest(
                    model=model,
                    kind=kind,
                    source=_parquet(frame),
                    sender=sender,
                    filename=f"{kind}.parquet",
                    version=version if kind == "reference" else None,
                    now=now,
                )
            except IngestRefusal as refusal:
                report.skipped.append(f"{model.slug}@{version.label} {kind}: {refusal}")
                break
            report.batches += int(result.created)
            report.rows += len(frame)
        else:
            report.models += 1
            if drifted:
                report.drifted_models.append(model.slug)
        progress(f"{model.slug}: {len(batches)} batches" + ("  (shifted on the last day)" if drifted else ""))
    return report

"""The data-plane tests' small world: alice owns `credit-pd`, a binary model whose champion
`v2` has served since 2025-01-01, with challenger `v3` from 2025-06-01 and `v1`, retired on
2025-01-01. The people are the suite's (``RegistryWorld``), and the model is registered through
the registry's one write path (``model_apply``, as alice): every version was validated by val,
has an auc baseline and the same feature schema, with the hash the registry computes.
Batches are built as Arrow tables and written as Parquet, CSV or JSON files."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.contrib.auth.models import User

from audit.ledger.context import Actor
from audit.ledger.models import LedgerEntry
from monitors.ingest import IngestResult, batch_ingest
from monitors.models import Batch, Label, RecordId, ReferenceProfile
from registry import selectors
from registry.documents.export import model_export
from registry.models import FeatureSchema, ModelVersion, MonitoredModel
from registry.services import model_apply
from tests.registry.factories import RegistryWorld, version_document

START = datetime(2025, 3, 1, tzinfo=UTC)
V1_DEPLOYED = datetime(2024, 1, 1, tzinfo=UTC)
V2_DEPLOYED = datetime(2025, 1, 1, tzinfo=UTC)
V3_DEPLOYED = datetime(2025, 6, 1, tzinfo=UTC)
CHANNELS = ("branch", "online", "phone")
SENDER = Actor("service", "7", "serving-stack")

FEATURES: list[dict[str, Any]] = [
    {"name": "income", "kind": "numeric", "min_value": 0.0},
    {"name": "age", "kind": "numeric", "nullable": False, "min_value": 18.0, "max_value": 100.0},
    {"name": "channel", "kind": "categorical", "categories": list(CHANNELS), "is_segment": True},
    {"name": "has_mortgage", "kind": "boolean"},
    {"name": "opened_at", "kind": "datetime"},
    {"name": "employer", "kind": "text"},
]


@dataclass
class World:
    alice: User
    model: MonitoredModel
    v1: ModelVersion
    v2: ModelVersion
    v3: ModelVersion
    schema: FeatureSchema  # v2's
    people: RegistryWorld


def served(label: str, *, deployed_at: datetime, **overrides: Any) -> dict[str, Any]:
    """A version's document: validated by val two weeks before it was deployed, with the
    world's schema (record_id, timestamp, default_flag, prediction, score and FEATURES)."""
    return version_document(
        label,
        artifact_sha256=label[-1] * 64,
        deployed_at=deployed_at,
        validated_at=deployed_at - timedelta(days=14),
        validated_by="val",
        target_column="default_flag",
        prediction_column="prediction",
        score_columns=["score"],
        expected_rows_per_day=None,
        features=copy.deepcopy(FEATURES),
        **overrides,
    )


def make_world() -> World:
    people = RegistryWorld()
    model = people.register(
        slug="credit-pd",
        name="Credit PD",
        versions=[
            served("v1", deployed_at=V1_DEPLOYED, status="retired", role="", retired_at=V2_DEPLOYED),
            served("v2", deployed_at=V2_DEPLOYED),  # production champion
            served("v3", deployed_at=V3_DEPLOYED, role="challenger"),
        ],
    )
    v1, v2, v3 = (model.versions.get(label=label) for label in ("v1", "v2", "v3"))
    return World(people.alice, model, v1, v2, v3, selectors.schema_current(v2), people)


def amend(world: World, *, versions: dict[str, dict[str, Any]] | None = None, **fields: Any) -> None:
    """Change the registered model as its owner would: export it, change top-level ``fields``
    and the keys of ``versions`` (by label; ``features`` makes a new schema version), apply the
    document as alice. The world's model and versions are read again; ``world.schema`` stays
    the schema the world started with."""
    document = model_export(world.model)
    document.update(fields)
    for entry in document["versions"]:
        entry.update((versions or {}).get(entry["label"], {}))
    model_apply(document=document, user=world.alice)
    for row in (world.model, world.v1, world.v2, world.v3):
        row.refresh_from_db()


def production_table(
    n: int,
    *,
    first_id: int = 0,
    start: datetime = START,
    step: timedelta = timedelta(minutes=1),
    version: str = "v2",
    seed: int = 0,
) -> pa.Table:
    rng = np.random.default_rng(seed)
    times = [start + i * step for i in range(n)]
    return pa.table(
        {
            "record_id": [f"r{first_id + i}" for i in range(n)],
            "timestamp": pa.array(times, type=pa.timestamp("us", tz="UTC")),
            "model_version": [version] * n,
            "income": rng.uniform(1_000, 9_000, n),
            "age": rng.integers(18, 90, n).astype(float),
            "channel": [CHANNELS[i % 3] for i in range(n)],
            "has_mortgage": [bool(i % 2) for i in range(n)],
            "opened_at": pa.array(
                [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(n)],
                type=pa.timestamp("us", tz="UTC"),
            ),
            "employer": [f"employer {i % 7}" for i in range(n)],
            "prediction": rng.integers(0, 2, n).astype(float),
            "score": rng.uniform(0, 1, n),
        }
    )


def reference_table(n: int, *, seed: int = 1) -> pa.Table:
    table = production_table(n, seed=seed).drop_columns(["record_id", "timestamp", "model_version"])
    rng = np.random.default_rng(seed)
    split = ["train"] * (n * 6 // 10) + ["validation"] * (n * 2 // 10)
    split += ["holdout"] * (n - len(split))
    return table.append_column("default_flag", pa.array(rng.integers(0, 2, n).astype(float))).append_column(
        "split", pa.array(split)
    )


def labels_table(record_ids: list[str], values: list[float], *, at: datetime | None = None) -> pa.Table:
    columns: dict[str, Any] = {"record_id": record_ids, "default_flag": values}
    if at is not None:
        columns["label_timestamp"] = pa.array([at] * len(record_ids), type=pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def write(table: pa.Table, path: Path, fmt: str = "parquet") -> Path:
    path = path.with_suffix(f".{'jsonl' if fmt == 'jsonl' else fmt}")
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path)
    elif fmt in ("json", "jsonl"):
        rows = table.to_pylist()
        for row in rows:
            for key, value in row.items():
                if isinstance(value, datetime):
                    row[key] = value.isoformat()
        if fmt == "json":
            path.write_text(json.dumps(rows))
        else:
            path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def ingest(world: World, source: Any, kind: str = "production", **kwargs: Any) -> IngestResult:
    return batch_ingest(
        model=kwargs.pop("model", world.model),
        kind=kind,
        source=source,
        filename=str(source) if isinstance(source, str | Path) else "",
        sender=kwargs.pop("sender", SENDER),
        **kwargs,
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def data_rows(model: MonitoredModel) -> dict[str, int]:
    return {
        "batches": Batch.objects.filter(model=model).count(),
        "record_ids": RecordId.objects.filter(model=model).count(),
        "labels": Label.objects.filter(model=model).count(),
        "profiles": ReferenceProfile.objects.filter(batch__model=model).count(),
    }


def last_entry(action: str) -> LedgerEntry:
    entry = LedgerEntry.objects.filter(action=action).order_by("-sequence").first()
    assert entry is not None, f"no ledger entry {action}"
    return entry

"""Synthetic batches ingested through the data plane's one entry point, as the serving stack
would post them."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
from django.conf import settings

from audit.ledger.context import Actor
from monitors.ingest.services import batch_ingest
from monitors.models import Batch
from registry.models import MonitoredModel
from simulation.synthetic import production_frame, reference_frame
from tests.monitors.checks.world import FEATURES, WINDOW_ROWS, champion

SERVING = Actor("service", "serving", "serving-stack")


def _parquet(frame: pd.DataFrame) -> io.BytesIO:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return buffer


def ingest_reference(model: MonitoredModel, *, rows: int = 1000, seed: int = 1, features=FEATURES) -> Batch:
    frame = reference_frame(features, rows=rows, seed=seed)
    return batch_ingest(
        model=model,
        kind="reference",
        source=_parquet(frame),
        sender=SERVING,
        filename="reference.parquet",
        version=champion(model),
    ).batch


def ingest_window(
    model: MonitoredModel,
    *,
    start: datetime,
    end: datetime,
    rows: int = WINDOW_ROWS,
    seed: int = 2,
    drift: float | dict[str, float] = 0.0,
    features=FEATURES,
) -> Batch:
    frame = production_frame(
        features,
        rows=rows,
        seed=seed,
        start=start,
        end=end,
        version_label=champion(model).label,
        record_prefix=f"{model.slug}-{start:%Y%m%d%H}-{seed}",
        drift=drift,
        version_column=settings.FLEETWATCH_VERSION_LABEL_COLUMN,
    )
    return batch_ingest(
        model=model, kind="production", source=_parquet(frame), sender=SERVING, filename="production.parquet"
    ).batch

"""The per-model data-plane lock: ingest, retention purge and the orphan sweep take it, so a
batch's sequence follows commit order and a file is never swept while its batch commits."""

from __future__ import annotations

from django.db import connection

from registry.models import MonitoredModel

# Any fixed 32-bit class will do (the two-key advisory locks are a key space of their own); the
# second key is the model's id.
INGEST_LOCK_CLASS = 0x46574450  # "FWDP"


def model_lock(model: MonitoredModel | int) -> None:
    """Take the model's lock until the end of the current transaction."""
    pk = model if isinstance(model, int) else model.pk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK_CLASS, pk % 2**31])
    # SQLite: transactions begin IMMEDIATE, which already serialises writers.

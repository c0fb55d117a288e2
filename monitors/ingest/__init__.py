"""Ingestion of reference, production and label batches (see ``services.batch_ingest``)."""

from monitors.ingest.errors import IngestRefusal, Rule
from monitors.ingest.services import IngestResult, batch_ingest

__all__ = ("IngestRefusal", "IngestResult", "Rule", "batch_ingest")

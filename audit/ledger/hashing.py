"""The chain's hash: SHA-256 over the entry as RFC 8785 canonical JSON.

Canonical JSON makes the hash independent of key order, whitespace and number formatting, so an
entry read back from any database (jsonb reorders keys) re-hashes to the same value, and anyone can
re-derive it with a JCS library in another language.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64


class LedgerPayloadError(ValueError):
    """A payload that cannot be canonicalised (NaN, a set, an int beyond 2**53, ...)."""


def canonical_bytes(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LedgerPayloadError(f"ledger payload is not canonical JSON: {exc}") from exc


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    previous_hash: str,
    sequence: int,
    recorded_at: datetime,
    actor_kind: str,
    actor_id: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    correlation_id: str,
    payload: Any,
) -> str:
    document = {
        "previous_hash": previous_hash,
        "sequence": sequence,
        "recorded_at": format_timestamp(recorded_at),
        "actor": {"kind": actor_kind, "id": actor_id, "name": actor_name},
        "action": action,
        "subject": {"type": subject_type, "id": subject_id},
        "correlation_id": correlation_id,
        "payload": payload,
    }
    return hashlib.sha256(canonical_bytes(document)).hexdigest()

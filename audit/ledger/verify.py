"""Walking the chain.

Each entry is re-hashed from its stored fields and linked to its predecessor, so an edited row
breaks its own hash, a removed row leaves a gap in the sequence, and a reordered row breaks the
link. Removing the newest rows leaves a valid shorter chain: only a head kept outside the database
(``audit_head``, printed in every report) catches that.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.ledger.hashing import GENESIS_HASH, entry_hash
from audit.ledger.models import LedgerEntry
from audit.ledger.selectors import ChainHead

_FIELDS = (
    "sequence",
    "previous_hash",
    "entry_hash",
    "recorded_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "subject_type",
    "subject_id",
    "correlation_id",
    "payload",
)


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head: ChainHead
    bad_sequence: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_sequence is None


def ledger_verify(*, expected_head: ChainHead | None = None, using: str = "default") -> VerifyResult:
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    count = 0
    rows = LedgerEntry.objects.using(using).order_by("sequence").values_list(*_FIELDS)
    for row in rows.iterator(chunk_size=5000):
        (
            sequence,
            stored_previous,
            stored_hash,
            recorded_at,
            actor_kind,
            actor_id,
            actor_name,
            action,
            subject_type,
            subject_id,
            correlation_id,
            payload,
        ) = row
        head = ChainHead(expected_sequence - 1, previous_hash)
        if sequence != expected_sequence:
            return VerifyResult(
                count,
                head,
                expected_sequence,
                f"entry {expected_sequence} is missing (next present is {sequence})",
            )
        if stored_previous != previous_hash:
            return VerifyResult(
                count, head, sequence, f"entry {sequence} does not link to entry {sequence - 1}"
            )
        recomputed = entry_hash(
            previous_hash=stored_previous,
            sequence=sequence,
            recorded_at=recorded_at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            correlation_id=correlation_id,
            payload=payload,
        )
        if recomputed != stored_hash:
            return VerifyResult(
                count, head, sequence, f"entry {sequence} was altered: its contents do not match its hash"
            )
        previous_hash = stored_hash
        expected_sequence += 1
        count += 1

    head = ChainHead(expected_sequence - 1, previous_hash)
    if expected_head is not None:
        if expected_head.sequence > head.sequence:
            return VerifyResult(
                count,
                head,
                head.sequence + 1,
                f"entries {head.sequence + 1}..{expected_head.sequence} were removed "
                f"(the kept head is {expected_head.sequence}, the chain ends at {head.sequence})",
            )
        if expected_head.sequence > 0:
            kept = LedgerEntry.objects.using(using).filter(sequence=expected_head.sequence)
            stored = kept.values_list("entry_hash", flat=True).first()
            if stored != expected_head.entry_hash:
                return VerifyResult(
                    count,
                    head,
                    expected_head.sequence,
                    f"entry {expected_head.sequence} differs from the kept head",
                )
    return VerifyResult(count, head)

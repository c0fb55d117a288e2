from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from audit.ledger.hashing import GENESIS_HASH
from audit.ledger.models import LedgerEntry
from vocabulary.ledger_actions import names_for


@dataclass(frozen=True)
class ChainHead:
    sequence: int
    entry_hash: str

    def __str__(self) -> str:
        return f"{self.sequence}:{self.entry_hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """Parse ``SEQ:HASH`` as printed by ``audit_head``; the error says what is wrong."""
        sequence, sep, digest = text.strip().partition(":")
        if not sep or not sequence.isdigit():
            raise ValueError(f"head {text!r} is not SEQ:HASH (e.g. 42:3fa9...)")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"head {text!r}: the hash must be 64 lowercase hex digits")
        return cls(int(sequence), digest)


def ledger_head(*, using: str = "default") -> ChainHead:
    row = LedgerEntry.objects.using(using).order_by("-sequence").values_list("sequence", "entry_hash").first()
    return ChainHead(*row) if row else ChainHead(0, GENESIS_HASH)


def ledger_entries_for_action(action: str, *, using: str = "default") -> QuerySet[LedgerEntry]:
    """Every entry of one act, under its current name and any retired alias; ``action`` may be
    either. An unknown name raises ``UnknownLedgerAction`` instead of finding nothing."""
    return LedgerEntry.objects.using(using).filter(action__in=names_for(action))

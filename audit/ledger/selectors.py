from __future__ import annotations

from dataclasses import dataclass

from audit.ledger.hashing import GENESIS_HASH
from audit.ledger.models import LedgerEntry


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

"""Why a check run could not read its inputs.

A leaf: the loader raises these, the runner turns them into a failed run with the reason, and
``recompute`` turns ``InputsPurged`` into its answer naming the purge. Every layer of the check
pipeline may import this module, and it imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitors.models import Batch


class InputsUnavailable(Exception):
    """The run cannot read what it needs (no schema, no plan, no reference, inputs purged); the
    message names what is missing and, where there is one, the fix."""


class InputsPurged(InputsUnavailable):
    """Inputs a recompute (or a late check) needs were purged under retention."""

    def __init__(self, what: str, batches: Iterable[Batch]) -> None:
        self.ledger_sequences = sorted({b.purge_ledger_sequence for b in batches if b.purge_ledger_sequence})
        entries = ", ".join(f"#{s}" for s in self.ledger_sequences) or "(no purge entry recorded)"
        super().__init__(f"{what} were purged under retention: see ledger entry {entries}")

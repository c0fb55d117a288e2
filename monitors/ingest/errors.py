"""Why a batch is refused: one structured error, for the uploader and for the ledger.

The uploader's ``message`` may quote an offending value (it is their own data); the ledger gets
``ledger_fields()`` — rule, column, row numbers and a count — and never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_ROWS_REPORTED = 5


class Rule:
    UNREGISTERED_MODEL = "unregistered_model"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE_FILE = "unreadable_file"
    EMPTY_BATCH = "empty_batch"
    MAX_ROWS = "max_rows"
    MAX_BYTES = "max_bytes"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    UNPARSEABLE_VALUE = "unparseable_value"
    MISSING_RECORD_ID = "missing_record_id"
    DUPLICATE_RECORD_ID = "duplicate_record_id"
    MISSING_TIMESTAMP = "missing_timestamp"
    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_VERSION = "unknown_version"
    SCHEMA_CONFLICT = "schema_conflict"
    NO_SCHEMA = "no_schema"
    REFERENCE_EXISTS = "reference_exists"
    INVALID_REQUEST = "invalid_request"


class IngestRefusal(Exception):
    """A batch refused whole. ``rows`` are 1-based data row numbers (the first few)."""

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[int] = (),
        count: int | None = None,
    ) -> None:
        if not message.startswith(f"{rule}:"):
            message = f"{rule}: {message}"
        super().__init__(message)
        self.rule = rule
        self.column = column
        self.rows = tuple(int(r) for r in rows[:MAX_ROWS_REPORTED])
        self.count = count if count is not None else (len(rows) or None)
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        """What the uploader is told (HTTP 400 body, the command's stderr)."""
        return {
            "rule": self.rule,
            "column": self.column,
            "rows": list(self.rows),
            "count": self.count,
            "message": self.message,
        }

    def ledger_fields(self) -> dict[str, Any]:
        """What is recorded: no message, because the message may quote a value."""
        return {"rule": self.rule, "column": self.column, "rows": list(self.rows), "count": self.count}

    def __str__(self) -> str:
        return self.message


def rows_phrase(rows: Sequence[int], count: int | None = None) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_REPORTED])
    total = count if count is not None else len(rows)
    word = "row" if len(rows[:MAX_ROWS_REPORTED]) == 1 else "rows"
    more = f" ({total} in all)" if total > min(len(rows), MAX_ROWS_REPORTED) else ""
    return f"{word} {shown}{more}"

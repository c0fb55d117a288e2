"""Structural validation, streamed: each chunk of the posted file is typed, checked and written
to the Parquet that will be stored, so memory stays bounded by one chunk plus the record ids.

Nothing here touches the database or the storage: it reads a spooled file and writes a temp
Parquet beside it. The first structural problem stops it with an ``IngestRefusal``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monitors.ingest.columns import (
    TIMESTAMP_TYPE,
    BadValues,
    arrow_type,
    cast_column,
    merge_counts,
    quality_counts,
)
from monitors.ingest.errors import MAX_ROWS_REPORTED, IngestRefusal, Rule, rows_phrase
from monitors.ingest.formats import open_source
from monitors.schemas import (
    FEATURE,
    LABEL_TIMESTAMP,
    PREDICTION,
    RECORD_ID,
    SCORE,
    SPLIT,
    SPLIT_VALUES,
    TARGET,
    TIMESTAMP,
    VERSION,
    BatchLayout,
    ColumnSpec,
)

QUALITY_ROLES = (FEATURE, TARGET, PREDICTION, SCORE)


@dataclass(frozen=True)
class ServingWindow:
    """When a version served: [start, end) in ns since the epoch; None when it never did."""

    label: str
    start_ns: int | None
    end_ns: int | None


@dataclass
class UnknownVersionRows:
    count: int = 0
    first_rows: list[int] = field(default_factory=list)


@dataclass
class Validated:
    path: Path
    sha256: str
    size: int
    row_count: int
    record_ids: pa.Array | None
    timestamps: pa.Array | None
    min_timestamp: datetime | None
    max_timestamp: datetime | None
    quality: dict[str, object]
    versions: dict[str, int]  # label -> rows
    unknown_versions: dict[str, UnknownVersionRows]


def validate_batch(
    *,
    posted: Path,
    fmt: str,
    layout: BatchLayout,
    kind: str,
    output: Path,
    max_rows: int,
    now: datetime,
    future_limit: datetime,
    serving: dict[str, ServingWindow] | None = None,
) -> Validated:
    source = open_source(posted, fmt)
    present = _check_columns(source.names, layout)
    fill_label_time = (
        kind == "labels" and layout.timestamp is not None and layout.timestamp not in source.names
    )
    out_columns = list(present)
    if fill_label_time:
        out_columns.append(layout.column(layout.timestamp))  # type: ignore[arg-type]
    schema = pa.schema([pa.field(c.name, arrow_type(c.kind)) for c in out_columns])

    offset = 0
    ids: list[pa.Array] = []
    times: list[pa.Array] = []
    quality: dict[str, dict[str, int]] = {}
    versions: dict[str, int] = {}
    unknown: dict[str, UnknownVersionRows] = {}
    future_ns = pa.scalar(future_limit, type=TIMESTAMP_TYPE)
    # Dictionary encoding only where values repeat (categories, versions, text): trying it on
    # float columns and unique record ids costs most of the write time and saves nothing.
    repeating = [c.name for c in out_columns if c.kind in ("categorical", "text") and c.role != RECORD_ID]
    writer = pq.ParquetWriter(output, schema, compression="snappy", use_dictionary=repeating)
    try:
        for chunk in source.batches:
            n = chunk.num_rows
            if n == 0:
                continue
            if offset + n > max_rows:
                raise IngestRefusal(
                    Rule.MAX_ROWS,
                    f"the batch has more than {max_rows} rows (this model's limit); "
                    f"row {max_rows + 1} is over it: split it into smaller batches",
                    rows=(max_rows + 1,),
                )
            arrays = []
            for spec in present:
                typed = _typed(chunk.column(spec.name), spec, offset)
                _check_role(typed, spec, offset, future_ns)
                if spec.role in QUALITY_ROLES:
                    merge_counts(quality, spec.name, quality_counts(typed, spec))
                if spec.role == RECORD_ID and (kind != "reference"):
                    ids.append(typed)
                if spec.role in (TIMESTAMP, LABEL_TIMESTAMP) and kind != "reference":
                    times.append(typed)
                arrays.append(typed)
            if fill_label_time:
                filled = pa.array([now] * n, type=TIMESTAMP_TYPE) if n else pa.array([], TIMESTAMP_TYPE)
                times.append(filled)
                arrays.append(filled)
            if kind == "production" and layout.version is not None:
                version_array = arrays[[c.name for c in present].index(layout.version)]
                time_array = arrays[[c.name for c in present].index(layout.timestamp)]  # type: ignore[arg-type]
                _check_versions(version_array, time_array, offset, serving or {}, versions, unknown)
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            offset += n
    finally:
        writer.close()

    if offset == 0:
        raise IngestRefusal(Rule.EMPTY_BATCH, "the batch is empty: it has columns but no rows")
    record_ids = pa.concat_arrays(ids) if ids else None
    if record_ids is not None:
        _check_unique(record_ids, layout.record_id or "")
    timestamps = pa.concat_arrays(times) if times else None
    lo = hi = None
    if timestamps is not None and len(timestamps):
        bounds = pc.min_max(timestamps)
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()

    digest = hashlib.sha256()
    with output.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    summary: dict[str, object] = {"rows": offset, "columns": quality}
    return Validated(
        path=output,
        sha256=digest.hexdigest(),
        size=output.stat().st_size,
        row_count=offset,
        record_ids=record_ids,
        timestamps=timestamps,
        min_timestamp=lo,
        max_timestamp=hi,
        quality=summary,
        versions=versions,
        unknown_versions=unknown,
    )


def _check_columns(names: tuple[str, ...], layout: BatchLayout) -> list[ColumnSpec]:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise IngestRefusal(
            Rule.DUPLICATE_COLUMN, f"column `{duplicates[0]}` appears more than once", column=duplicates[0]
        )
    expected = set(layout.names)
    missing = [c.name for c in layout.columns if c.required and c.name not in names]
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        raise IngestRefusal(
            Rule.MISSING_COLUMN,
            f"column `{missing[0]}` is missing (missing: {listed}); the schema requires it",
            column=missing[0],
        )
    unknown = [n for n in names if n not in expected]
    if unknown:
        listed = ", ".join(f"`{u}`" for u in unknown)
        raise IngestRefusal(
            Rule.UNKNOWN_COLUMN,
            f"column `{unknown[0]}` is not in the model's schema (unknown: {listed}); "
            f"remove it or register a new schema version",
            column=unknown[0],
        )
    return [c for c in layout.columns if c.name in names]


def _typed(raw: pa.Array, spec: ColumnSpec, offset: int) -> pa.Array:
    try:
        return cast_column(raw, spec)
    except BadValues as bad:
        rows = [offset + p + 1 for p in bad.positions]
        rule = (
            Rule.UNPARSEABLE_TIMESTAMP
            if spec.role in (TIMESTAMP, LABEL_TIMESTAMP)
            else Rule.UNPARSEABLE_VALUE
        )
        count = f"{bad.count}" if bad.complete else f"at least {bad.count}"
        raise IngestRefusal(
            rule,
            f"column `{spec.name}`: {count} values in this part of the batch are not "
            f"{bad.expected}, e.g. {bad.example} at row {rows[0]}; {rows_phrase(rows, bad.count)}",
            column=spec.name,
            rows=rows,
            count=bad.count,
        ) from None


def _where(mask: pa.Array, offset: int) -> tuple[list[int], int]:
    mask = pc.fill_null(mask, True)
    count = int(pc.sum(mask).as_py() or 0)
    if not count:
        return [], 0
    first = pc.indices_nonzero(mask).slice(0, MAX_ROWS_REPORTED).to_pylist()
    return [offset + p + 1 for p in first], count


def _check_role(typed: pa.Array, spec: ColumnSpec, offset: int, future: pa.Scalar) -> None:
    if spec.role == RECORD_ID and spec.required:
        rows, count = _where(pc.or_kleene(pc.is_null(typed), pc.equal(pc.utf8_length(typed), 0)), offset)
        if count:
            raise IngestRefusal(
                Rule.MISSING_RECORD_ID,
                f"column `{spec.name}`: {count} rows have no record id; {rows_phrase(rows, count)}",
                column=spec.name,
                rows=rows,
                count=count,
            )
    elif spec.role in (TIMESTAMP, LABEL_TIMESTAMP) and not spec.nullable:
        rows, count = _where(pc.is_null(typed), offset)
        if count:
            raise IngestRefusal(
                Rule.MISSING_TIMESTAMP,
                f"column `{spec.name}`: {count} rows have no timestamp; {rows_phrase(rows, count)}",
                column=spec.name,
                rows=rows,
                count=count,
            )
    if spec.role in (TIMESTAMP, LABEL_TIMESTAMP):
        rows, count = _where(pc.fill_null(pc.greater(typed, future), False), offset)
        if count:
            raise IngestRefusal(
                Rule.FUTURE_TIMESTAMP,
                f"column `{spec.name}`: {count} timestamps are in the "
                f"future, e.g. {typed[rows[0] - offset - 1].as_py().isoformat()} at row "
                f"{rows[0]}; {rows_phrase(rows, count)}",
                column=spec.name,
                rows=rows,
                count=count,
            )
    elif spec.role == VERSION:
        rows, count = _where(pc.or_kleene(pc.is_null(typed), pc.equal(pc.utf8_length(typed), 0)), offset)
        if count:
            raise IngestRefusal(
                Rule.UNKNOWN_VERSION,
                f"column `{spec.name}`: {count} rows name no model version; {rows_phrase(rows, count)}",
                column=spec.name,
                rows=rows,
                count=count,
            )
    elif spec.role == SPLIT:
        allowed = pc.is_in(typed, value_set=pa.array(SPLIT_VALUES), skip_nulls=True)
        rows, count = _where(pc.invert(allowed), offset)
        if count:
            raise IngestRefusal(
                Rule.UNPARSEABLE_VALUE,
                f"column `{spec.name}`: {count} values are not one of "
                f"{', '.join(SPLIT_VALUES)}, e.g. {typed[rows[0] - offset - 1].as_py()!r} at row "
                f"{rows[0]}; {rows_phrase(rows, count)}",
                column=spec.name,
                rows=rows,
                count=count,
            )


def _check_versions(
    labels: pa.Array,
    times: pa.Array,
    offset: int,
    serving: dict[str, ServingWindow],
    versions: dict[str, int],
    unknown: dict[str, UnknownVersionRows],
) -> None:
    ns = times.cast(pa.int64())
    for label in pc.unique(labels).to_pylist():
        mask = pc.equal(labels, label)
        versions[label] = versions.get(label, 0) + int(pc.sum(mask).as_py() or 0)
        window = serving.get(label)
        if window is None or window.start_ns is None:
            bad = mask
        else:
            outside = pc.less(ns, window.start_ns)
            if window.end_ns is not None:
                outside = pc.or_(outside, pc.greater_equal(ns, window.end_ns))
            bad = pc.and_(mask, outside)
        rows, count = _where(bad, offset)
        if count:
            entry = unknown.setdefault(label, UnknownVersionRows())
            entry.count += count
            entry.first_rows.extend(rows[: MAX_ROWS_REPORTED - len(entry.first_rows)])


def _check_unique(record_ids: pa.Array, column: str) -> None:
    counts = pc.value_counts(record_ids)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return
    values = repeated.field("values")
    mask = pc.is_in(record_ids, value_set=values)
    rows, count = _where(mask, 0)
    example = record_ids[rows[0] - 1].as_py()
    raise IngestRefusal(
        Rule.DUPLICATE_RECORD_ID,
        f"column `{column}`: {len(values)} record ids appear more "
        f"than once in the batch, e.g. {example!r}; {rows_phrase(rows, count)}",
        column=column,
        rows=rows,
        count=count,
    )

"""Reading posted bytes: spooling to disk with the posted sha256, and Parquet, CSV or JSON
(lines or one array) as a stream of Arrow record batches.

CSV columns are read as strings and typed afterwards, so that a bad value is reported with its
row instead of as a reader error; Parquet columns keep their types; JSON values are Python
values turned into Arrow columns (strings where a column mixes types).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from monitors.ingest.errors import IngestRefusal, Rule

CHUNK_BYTES = 1024 * 1024
ROWS_PER_CHUNK = 131_072
PARQUET, CSV, JSON = "parquet", "csv", "json"

_CONTENT_TYPES = {
    "application/vnd.apache.parquet": PARQUET,
    "application/parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "text/csv": CSV,
    "application/csv": CSV,
    "application/json": JSON,
    "application/x-ndjson": JSON,
    "application/jsonl": JSON,
    "application/json-lines": JSON,
    "application/jsonlines": JSON,
}
_EXTENSIONS = {
    ".parquet": PARQUET,
    ".pq": PARQUET,
    ".csv": CSV,
    ".json": JSON,
    ".jsonl": JSON,
    ".ndjson": JSON,
}
SUPPORTED_CONTENT_TYPES = tuple(_CONTENT_TYPES)


@dataclass(frozen=True)
class Spooled:
    path: Path
    sha256: str
    size: int


def spool(source: str | Path | IO[bytes], directory: Path, *, max_bytes: int) -> Spooled:
    """Copy the posted bytes to ``directory`` (never all in memory), hashing as they pass."""
    target = directory / "posted"
    digest = hashlib.sha256()
    size = 0
    if isinstance(source, str | Path):
        size = Path(source).stat().st_size
        if size > max_bytes:
            raise _too_big(size, max_bytes)
        with Path(source).open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                digest.update(chunk)
        return Spooled(Path(source), digest.hexdigest(), size)
    with target.open("wb") as out:
        while True:
            chunk = source.read(CHUNK_BYTES)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _too_big(size, max_bytes, at_least=True)
            digest.update(chunk)
            out.write(chunk)
    return Spooled(target, digest.hexdigest(), size)


def _too_big(size: int, max_bytes: int, *, at_least: bool = False) -> IngestRefusal:
    more = "more than " if at_least else ""
    return IngestRefusal(
        Rule.MAX_BYTES,
        f"the batch is {more}{size} bytes; this model's limit is "
        f"{max_bytes} bytes: split it into smaller batches",
    )


def detect_format(path: Path, *, filename: str = "", content_type: str = "") -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _CONTENT_TYPES:
        return _CONTENT_TYPES[media]
    suffix = Path(filename).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    with path.open("rb") as handle:
        head = handle.read(64)
    if head.startswith(b"PAR1"):
        return PARQUET
    if head.lstrip()[:1] in (b"[", b"{"):
        return JSON
    if media in ("", "application/octet-stream", "text/plain", "multipart/form-data"):
        return CSV
    raise IngestRefusal(
        Rule.UNSUPPORTED_FORMAT,
        f"content type {media!r} is not supported; send Parquet, CSV or JSON "
        f"({', '.join(SUPPORTED_CONTENT_TYPES)})",
    )


@dataclass
class Source:
    """The columns of a posted file and a way to stream its rows."""

    names: tuple[str, ...]
    batches: Iterator[pa.RecordBatch]


def open_source(path: Path, fmt: str, *, columns: list[str] | None = None) -> Source:
    if fmt == PARQUET:
        return _parquet(path, columns)
    if fmt == CSV:
        return _csv(path, columns)
    return _json(path, columns)


def _unreadable(fmt: str, detail: str, *, rows: tuple[int, ...] = ()) -> IngestRefusal:
    return IngestRefusal(Rule.UNREADABLE_FILE, f"the file cannot be read as {fmt}: {detail}", rows=rows)


def _parquet(path: Path, columns: list[str] | None) -> Source:
    try:
        # pre_buffer would keep every row group's bytes cached until the end of the file
        parquet = pq.ParquetFile(path, pre_buffer=False)
        names = tuple(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable("Parquet", str(exc)) from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from parquet.iter_batches(batch_size=ROWS_PER_CHUNK, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable("Parquet", str(exc)) from None

    return Source(names, batches())


def _csv_header(path: Path) -> tuple[str, ...]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _unreadable("CSV", f"the header cannot be read ({exc})") from None
    if not header:
        raise IngestRefusal(Rule.EMPTY_BATCH, "the batch is empty: the CSV has no header and no rows")
    return tuple(header)


def _csv(path: Path, columns: list[str] | None) -> Source:
    names = _csv_header(path)
    if len(set(names)) != len(names):
        return Source(names, iter(()))  # the layout check reports the duplicate column
    bad_row: list[int] = []

    def on_invalid(row: Any) -> str:
        if row.number is not None:
            bad_row.append(int(row.number) - 1)  # physical line -> data row (after the header)
        return "error"

    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=False,
        include_columns=columns,
    )

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=16 << 20, use_threads=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=convert,
            )
            for batch in reader:
                yield from _split(batch)
        except pa.ArrowInvalid as exc:
            raise _unreadable("CSV", str(exc), rows=tuple(bad_row[:1])) from None

    return Source(names, batches())


def _split(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    for offset in range(0, batch.num_rows, ROWS_PER_CHUNK):
        yield batch.slice(offset, ROWS_PER_CHUNK)


def _json_records(path: Path) -> list[Any]:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    text = path.read_text(encoding="utf-8-sig")
    if head.startswith(b"["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _unreadable("JSON", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
        return list(records)
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _unreadable("JSON lines", f"line {number}: {exc.msg}", rows=(len(records) + 1,)) from None
    return records


def _json(path: Path, columns: list[str] | None) -> Source:
    try:
        records = _json_records(path)
    except UnicodeDecodeError as exc:
        raise _unreadable("JSON", f"not UTF-8 text ({exc.reason})") from None
    names: dict[str, None] = {}
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise _unreadable(
                "JSON", f"row {index} is a {type(record).__name__}, not an object", rows=(index,)
            )
        for key in record:
            names.setdefault(key, None)
    wanted = [n for n in names if columns is None or n in columns]
    arrays = [_json_column([r.get(name) for r in records]) for name in wanted]
    table = pa.Table.from_arrays(arrays, names=wanted) if wanted else pa.table({})
    return Source(tuple(names), iter(table.to_batches(max_chunksize=ROWS_PER_CHUNK)))


def _json_column(values: list[Any]) -> pa.Array:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {int} and all(v is None or -(2**63) <= v < 2**63 for v in values):
        return pa.array(values, type=pa.int64())
    if kinds and kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if kinds == {bool}:
        return pa.array(values, type=pa.bool_())
    return pa.array([_json_text(v) for v in values], type=pa.string())


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)

"""Where batches, reference profiles, artefacts and fitted state live: Django's storage API,
alias ``batches``.

Names are content-addressed (``batches/<model uid>/<kind>/<sha256>.parquet``), so a stored file
never changes: writing a name that exists is a no-op, because the same name means the same bytes.
A write is durable before it returns — locally a temp file that is fsynced and then linked into
place (and its directory fsynced), on S3 a completed put — which is what lets the ingest commit
the batch row right after it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils import timezone

STORAGE_ALIAS = "batches"
TEMP_PREFIX = ".tmp-"
DATA_PREFIXES = ("batches", "profiles", "artefacts", "fitted")


class DurableFileSystemStorage(FileSystemStorage):
    """Local storage whose writes survive a crash or a power cut the moment ``save`` returns."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # content-addressed: an existing name already holds these bytes

    def _save(self, name: str, content: File[Any]) -> str:
        full_path = Path(self.path(name))
        if full_path.exists():
            return name
        directory = full_path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(tmp_name, self.file_permissions_mode)
            else:
                os.chmod(tmp_name, 0o644)
            # link, unlike rename, never replaces: a stored file is immutable. FileExistsError means
            # a concurrent writer stored the same bytes first.
            with contextlib.suppress(FileExistsError):
                os.link(tmp_name, full_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        _fsync_directory(directory)
        return name


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def data_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def batch_name(*, model_uid: object, kind: str, sha256: str) -> str:
    return f"batches/{model_uid}/{kind}/{sha256}.parquet"


def profile_name(*, model_uid: object, reference_sha256: str, schema_id: int, code_version: str) -> str:
    safe_code = "".join(c if c.isalnum() or c in "._-" else "_" for c in code_version)
    return f"profiles/{model_uid}/{reference_sha256}.schema{schema_id}.{safe_code}.profile"


def artefact_name(*, model_uid: object, artefact_sha256: str) -> str:
    return f"artefacts/{model_uid}/{artefact_sha256}.artefact"


def fitted_name(*, model_uid: object, state_sha256: str) -> str:
    return f"fitted/{model_uid}/{state_sha256}.fitted"


def store_file(name: str, path: Path) -> bool:
    """Store the file at ``path`` under ``name`` durably; False when the name already existed."""
    storage = data_storage()
    if storage.exists(name):
        return False
    with path.open("rb") as handle:
        saved = storage.save(name, File(handle))
    if saved != name:
        raise RuntimeError(f"storage renamed {name!r} to {saved!r}; content-addressed names must stay")
    return True


def store_bytes(name: str, data: bytes) -> bool:
    storage = data_storage()
    if storage.exists(name):
        return False
    from django.core.files.base import ContentFile

    saved = storage.save(name, ContentFile(data))
    if saved != name:
        raise RuntimeError(f"storage renamed {name!r} to {saved!r}; content-addressed names must stay")
    return True


def open_stored(name: str) -> IO[bytes]:
    return data_storage().open(name, "rb")  # type: ignore[return-value]


def delete_stored(name: str) -> None:
    storage = data_storage()
    if storage.exists(name):
        storage.delete(name)


def walk_stored(prefix: str) -> Iterator[str]:
    """Every stored name under ``prefix``, temp files included."""
    storage = data_storage()
    if not storage.exists(prefix) and isinstance(storage, FileSystemStorage):
        return
    try:
        directories, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{prefix}/{name}"
    for directory in directories:
        yield from walk_stored(f"{prefix}/{directory}")


def stored_age(name: str, *, now: datetime | None = None) -> timedelta:
    modified = data_storage().get_modified_time(name)
    if timezone.is_naive(modified):
        modified = timezone.make_aware(modified, timezone.get_current_timezone())
    return (now or timezone.now()) - modified

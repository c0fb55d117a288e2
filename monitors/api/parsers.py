"""A request body that *is* the batch (``Content-Type: text/csv`` and friends): handed to the
service as a stream, which spools it to a temp file — never read into memory whole. Listed after
DRF's multipart parser, so a form upload (a ``file`` field) still goes through Django's upload
handlers, which spool large files to disk too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


@dataclass(frozen=True)
class RawBody:
    stream: IO[bytes]
    media_type: str


class RawBatchParser(BaseParser):
    media_type = "*/*"  # the service decides which formats it reads, and names them when it refuses

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> RawBody:
        if stream is None:
            raise ParseError("the request has no body: send the batch as the body or as a `file` form field")
        return RawBody(stream=stream, media_type=media_type or "")

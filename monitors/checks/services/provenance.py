"""What produced a result: code and library versions, recorded on every run."""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib import metadata
from pathlib import Path

_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow", "scikit-learn")
_REPO = Path(__file__).resolve().parents[3]


@cache
def code_version() -> str:
    """``FLEETWATCH_CODE_VERSION`` when the deployment sets it (an image tag, a commit), else the
    package version plus the checked-out commit when running from a repository."""
    explicit = os.environ.get("FLEETWATCH_CODE_VERSION")
    if explicit:
        return explicit
    try:
        version = metadata.version("fleetwatch")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git_commit()
    return f"{version}+g{commit[:12]}" if commit else version


def _git_commit() -> str:
    head = _REPO / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (_REPO / ".git" / ref[5:]).read_text().strip()
        return ref
    except OSError:
        return ""


@cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions

"""Local files and directories as work units, so archived S3 downloads read like the bucket."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from connector.errors import SourceError
from connector.sources.base import WorkUnit

_IGNORED_SUFFIXES = (".md5", ".crc", ".tmp", ".part")


def key_of(path: Path) -> str:
    """The S3-style key of a downloaded object: the path from ``AWSLogs/`` on, when present.

    Ids derive from it, so the same object yields the same ids wherever it was downloaded to.
    """
    text = path.as_posix()
    marker = text.find("AWSLogs/")
    return text[marker:] if marker >= 0 else str(path.resolve().as_posix())


def _opener(path: Path):  # type: ignore[no-untyped-def]
    return lambda: open(path, "rb")


def local_units(paths: Iterable[str], type_hint: str | None = None) -> Iterator[WorkUnit]:
    """Work units for files and (recursively, in sorted order) directories."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(
                Path(root) / name
                for root, _dirs, names in os.walk(path)
                for name in names
                if not name.startswith(".") and not name.endswith(_IGNORED_SUFFIXES)
            )
        elif path.is_file():
            files = [path]
        else:
            raise SourceError(f"{given}: no such file or directory")
        for file in files:
            yield WorkUnit(origin=str(file), key=key_of(file), open=_opener(file), size=file.stat().st_size,
                           type_hint=type_hint)

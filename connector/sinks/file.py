"""Writes documents as NDJSON files, one per dataset (``<dir>/aws.vpcflow.ndjson`` ...)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from connector.sinks.base import Batch, Delivery


class FileSink:
    """Appends to ``<directory>/<dataset>.ndjson``; fsync on close so a finished run is durable."""

    waits_on_io = True

    def __init__(self, directory: str | Path, truncate: bool = False, name_suffix: str = "") -> None:
        """``name_suffix`` (e.g. ``.3``) gives each writer process its own files, so lines never interleave."""
        self.directory = Path(directory)
        self._suffix = name_suffix
        self.directory.mkdir(parents=True, exist_ok=True)
        self._mode = "wb" if truncate else "ab"
        self._files: dict[str, IO[bytes]] = {}
        self.paths: dict[str, Path] = {}

    def _file(self, dataset: str) -> IO[bytes]:
        handle = self._files.get(dataset)
        if handle is None:
            path = self.directory / f"{dataset}{self._suffix}.ndjson"
            handle = open(path, self._mode, buffering=1 << 20)  # noqa: SIM115 - closed in close()
            self._files[dataset] = handle
            self.paths[dataset] = path
        return handle

    def send(self, batch: Batch) -> Delivery:
        """Write every document to its dataset's file, then flush so the batch can be acknowledged."""
        runs: dict[str, list[bytes]] = {}
        for encoded, dataset in zip(batch.encoded, batch.datasets, strict=True):
            runs.setdefault(dataset, []).append(encoded)
        for dataset, lines in runs.items():
            handle = self._file(dataset)
            handle.write(b"\n".join(lines) + b"\n")
            handle.flush()
        return Delivery(delivered=len(batch))

    def close(self) -> None:
        """Flush, fsync and close every file."""
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        self._files.clear()

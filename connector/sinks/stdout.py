"""Writes documents as NDJSON to standard output (the ``normalize`` command's sink)."""

from __future__ import annotations

import sys
from typing import IO

from connector.sinks.base import Batch, Delivery


class StdoutSink:
    """One JSON document per line; a closed pipe (``| head``) ends the run cleanly."""

    waits_on_io = True

    def __init__(self, out: IO[bytes] | None = None) -> None:
        self._out = out if out is not None else sys.stdout.buffer

    def send(self, batch: Batch) -> Delivery:
        """Write the batch in one call."""
        if batch.encoded:
            self._out.write(b"\n".join(batch.encoded) + b"\n")
        return Delivery(delivered=len(batch))

    def close(self) -> None:
        """Flush what is buffered."""
        self._out.flush()

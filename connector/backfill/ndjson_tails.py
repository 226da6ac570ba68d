"""Resuming into the file sink: a run killed mid-write leaves a half line at the end of an NDJSON file,
which is cut off before the objects it came from are read again."""

from __future__ import annotations

import os
from pathlib import Path


def repair_ndjson_tails(directory: str | Path) -> int:
    """Cut a half-written last line (left by a kill mid-write) off every NDJSON file; returns bytes cut.

    The cut record belongs to an object that was not yet checkpointed, so the resumed run writes it again.
    """
    cut = 0
    for path in Path(directory).glob("*.ndjson"):
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                continue
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                continue
            pos, tail = size, b""
            while pos > 0 and b"\n" not in tail:
                step = min(1 << 16, pos)
                pos -= step
                handle.seek(pos)
                tail = handle.read(step) + tail
            keep = pos + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
            handle.truncate(keep)
            cut += size - keep
    return cut

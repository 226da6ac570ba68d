"""A unit of work: one object or stream page, acknowledged only when all its records are settled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One object (file, S3 object) to read.

    ``origin`` names it for people and sinks (``s3://bucket/key``, a path); ``key`` is the part
    used for type detection and record ids (the S3 key, or a local path from ``AWSLogs/`` on).
    """

    origin: str
    key: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    type_hint: str | None = None
    vpcflow_format: str | None = None  # custom format of headerless flow lines (a CloudWatch log group's)
    etag: str | None = None
    # Full event.id of each line (line n -> record_ids[n - 1]) when the source has stable ids of
    # its own: CloudWatch Logs event ids survive re-delivery in a different batch, line numbers do not.
    record_ids: tuple[str, ...] | None = None

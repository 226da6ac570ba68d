"""Bulk delivery shared by the Elasticsearch and OpenSearch sinks.

One code path for both servers: ``_bulk`` is sent with ``requests`` (a session can be injected,
so unit tests hand in one that ``responses`` controls). Every record becomes a ``create`` action
with ``_id = event.id``, so a replay is idempotent and a 409 means "already there". Bodies are
gzip-compressed (``compression_level``, 1 by default) and split by document count and bytes;
the requests of one batch run concurrently on a small thread pool (zlib and socket I/O release
the GIL), each sent as soon as it is encoded. Items are read one by one: 429 / 5xx items are
resent with tenacity backoff, refused ones are dead-lettered with the server's reason, and
``send`` returns only when every record is settled.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from connector.errors import FatalSinkError, SinkError
from connector.gzip_codec import gzip_compressor
from connector.sinks.base import Batch, DeadLetter, Delivery
from connector.sinks.search_config import DATASETS, SearchSinkConfig
from connector.sinks.search_connection import SearchConnection, check_connection, error_reason_text

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_FILTER_PATH = "errors,items.*.status,items.*.error"


class _Retryable(Exception):
    """Some items (or the whole request) may succeed if sent again."""


@dataclass
class BulkStats:
    """Counters for logs and tests: what the sink did beyond delivering."""

    requests: int = 0
    retried_requests: int = 0
    retried_items: int = 0
    conflicts: int = 0
    dead_lettered: int = 0
    delivered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Add counts from one worker thread."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


@dataclass
class _Chunk:
    """One bulk request's worth of records: their batch positions, action lines and documents.

    The documents are the batch's own bytes: the request body is joined from them once, so the
    ~1 KB of each document is copied once, not into a line of its own first.
    """

    positions: list[int]
    actions: list[bytes]
    docs: list[bytes]
    delivered: int = 0
    dead: list[tuple[int, str]] = field(default_factory=list)

    def body(self, pending: list[int] | None) -> bytes:
        """NDJSON of the pending items (chunk indices; ``None`` for all): action, document, ..."""
        if pending is None:
            actions, docs = self.actions, self.docs
        else:
            actions = [self.actions[k] for k in pending]
            docs = [self.docs[k] for k in pending]
        # [a0, d0, a1, d1, ..., b""] joined by newlines ends every line with one.
        parts = [b""] * (2 * len(actions) + 1)
        parts[0:-1:2] = actions
        parts[1:-1:2] = docs
        return b"\n".join(parts)


class SearchBulkSink:
    """Implements the ``Sink`` protocol for both servers; subclasses only supply auth and naming."""

    display_name = "search"
    waits_on_io = True

    def __init__(
        self,
        config: SearchSinkConfig,
        connection: SearchConnection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        min_chunk_docs: int = 250,
    ) -> None:
        self.config = config
        self.connection = connection
        self.stats = BulkStats()
        self._sleep = sleep
        self.min_chunk_docs = min_chunk_docs
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix=f"{config.kind}-bulk")
        self._action_prefix: dict[str, bytes | None] = {}
        self._gzip = gzip_compressor(config.compression_level) if config.compression_level else None
        self._headers = {"Content-Type": "application/x-ndjson"}
        if self._gzip is not None:
            self._headers["Content-Encoding"] = "gzip"
        self._bulk_path = f"/_bulk?filter_path={_FILTER_PATH}"

    # -- Sink protocol -------------------------------------------------------------------------

    def send(self, batch: Batch) -> Delivery:
        """Deliver a batch; returns when every record is delivered or dead-lettered.

        Each chunk is submitted as soon as it is encoded, so the first requests are on the wire
        while the rest of the batch is still being encoded.
        """
        dead: list[tuple[int, str]] = []
        futures = [self._pool.submit(self._deliver, chunk) for chunk in self._chunks(batch, dead)]
        delivered = 0
        first_error: BaseException | None = None
        for future in futures:
            try:
                chunk = future.result()
            except BaseException as exc:
                # Wait for the other requests anyway: nothing may still be in flight on return.
                if first_error is None or isinstance(exc, FatalSinkError):
                    first_error = exc
                continue
            delivered += chunk.delivered
            dead.extend(chunk.dead)
        if first_error is not None:
            raise first_error
        dead.sort()
        docs = batch.docs
        letters = [
            DeadLetter(
                record=docs[i],
                reason=reason,
                origin=batch.origins[i],
                location=f"{self.config.index_for(batch.datasets[i])}/{batch.ids[i]}",
            )
            for i, reason in dead
        ]
        self.stats.add(delivered=delivered, dead_lettered=len(letters))
        return Delivery(delivered=delivered, dead_lettered=letters)

    def close(self) -> None:
        """Stop the worker threads and close connections."""
        self._pool.shutdown(wait=True)
        self.connection.close()

    # -- encoding --------------------------------------------------------------------------------

    def _prefix(self, dataset: str) -> bytes | None:
        prefix = self._action_prefix.get(dataset, b"")
        if prefix == b"":
            index = self.config.index_for(dataset)
            prefix = None if index is None else b'{"create":{"_index":"' + index.encode() + b'","_id":'
            self._action_prefix[dataset] = prefix
        return prefix

    def _chunks(self, batch: Batch, dead: list[tuple[int, str]]) -> Iterator[_Chunk]:
        """NDJSON line pairs in chunks bounded by bulk_docs and bulk_bytes and small enough that a
        batch fills the pool; a record that cannot be written is dead-lettered here instead."""
        per_request = min(
            self.config.bulk_docs,
            max(self.min_chunk_docs, math.ceil(len(batch) / self.config.concurrency)),
        )
        max_bytes = self.config.bulk_bytes
        dumps = orjson.dumps
        prefix_for = self._prefix
        ids = batch.ids
        positions: list[int] = []
        actions: list[bytes] = []
        docs: list[bytes] = []
        size = 0
        for i, (encoded, dataset) in enumerate(zip(batch.encoded, batch.datasets, strict=True)):
            prefix = prefix_for(dataset)
            if prefix is None:
                dead.append((i, f"no data stream for dataset {dataset!r} (expected aws.{'|aws.'.join(DATASETS)})"))
                continue
            event_id = ids[i]
            if not event_id:
                dead.append((i, "document has no event.id, so it cannot be written idempotently"))
                continue
            action = prefix + dumps(event_id) + b"}}"
            length = len(action) + len(encoded) + 2
            if positions and (len(positions) >= per_request or size + length > max_bytes):
                yield _Chunk(positions, actions, docs)
                positions, actions, docs, size = [], [], [], 0
            positions.append(i)
            actions.append(action)
            docs.append(encoded)
            size += length
        if positions:
            yield _Chunk(positions, actions, docs)

    # -- delivery --------------------------------------------------------------------------------

    def _deliver(self, chunk: _Chunk) -> _Chunk:
        """Send one chunk, resending only what is still pending, until all of it is settled."""
        pending: list[int] | None = None  # chunk indices still to settle; None: all of them
        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait_random_exponential(multiplier=0.1, max=self.config.retry_max_seconds),
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    if attempts:
                        self.stats.add(retried_requests=1, retried_items=_count(pending, chunk))
                    attempts += 1
                    try:
                        pending = self._attempt(pending, chunk)
                    except _RetryableItems as exc:
                        pending = exc.items
                        raise
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise SinkError(
                f"{self.config.kind} at {self.connection.url}: {_count(pending, chunk)} record(s) still not accepted"
                f" after {attempts} attempt(s): {last}"
            ) from None
        return chunk

    def _attempt(self, pending: list[int] | None, chunk: _Chunk) -> list[int]:
        """One ``_bulk`` request; settles what it can and raises ``_Retryable`` for the rest."""
        body = chunk.body(pending)
        if self._gzip is not None:
            body = self._gzip(body)
        self.stats.add(requests=1)
        try:
            resp = self.connection.request("POST", self._bulk_path, data=body, headers=self._headers)
        except FatalSinkError:
            raise
        except SinkError as exc:
            raise _Retryable(str(exc)) from None
        status = resp.status_code
        if status in _RETRY_STATUSES:
            raise _Retryable(f"HTTP {status} {error_reason_text(resp)}")
        if status in (401, 403):
            raise FatalSinkError(
                f"{self.config.kind} at {self.connection.url} refused the credentials (HTTP {status}):"
                f" {error_reason_text(resp)}"
            )
        if status == 413:
            raise FatalSinkError(
                f"{self.config.kind} at {self.connection.url} refused a {len(body)}-byte bulk request as too"
                " large (HTTP 413); lower bulk_bytes"
            )
        if status != 200:
            raise FatalSinkError(
                f"{self.config.kind} at {self.connection.url} refused the bulk request (HTTP {status}):"
                f" {error_reason_text(resp)}"
            )
        raw = resp.content
        if raw.startswith(b'{"errors":false'):
            # The common case: nothing to read item by item.
            chunk.delivered += _count(pending, chunk)
            return []
        return self._settle_items(range(len(chunk.positions)) if pending is None else pending, chunk, raw)

    def _settle_items(self, pending: Sequence[int], chunk: _Chunk, raw: bytes) -> list[int]:
        try:
            body = orjson.loads(raw)
            if body.get("errors") is False:
                chunk.delivered += len(pending)
                return []
            items = body["items"]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise _Retryable(f"unreadable bulk response: {raw[:200]!r}") from None
        if len(items) != len(pending):
            raise _Retryable(f"bulk response has {len(items)} items for {len(pending)} actions")
        retry: list[int] = []
        retry_reason = ""
        conflicts = 0
        for k, item in zip(pending, items, strict=True):
            result = item.get("create") or next(iter(item.values()))
            status = result.get("status", 0)
            if status < 300:
                chunk.delivered += 1
            elif status == 409:
                conflicts += 1
                chunk.delivered += 1
            elif status in _RETRY_STATUSES:
                retry.append(k)
                retry_reason = retry_reason or _item_reason(result)
            elif status in (401, 403) or (status == 404 and _error_type(result) == "index_not_found_exception"):
                raise FatalSinkError(
                    f"{self.config.kind} at {self.connection.url} refused writes (HTTP {status}):"
                    f" {_item_reason(result)}"
                )
            else:
                chunk.dead.append((chunk.positions[k], _item_reason(result)))
        if conflicts:
            self.stats.add(conflicts=conflicts)
        if retry:
            raise _RetryableItems(retry, f"{len(retry)} item(s) to resend: {retry_reason}")
        return []

    def check_connection(self) -> str:
        """Reach the cluster once at start, so a wrong URL or credential fails with a clear message."""
        return check_connection(self.connection)


class _RetryableItems(_Retryable):
    """Raised with the items to resend, so the next attempt carries only those."""

    def __init__(self, items: list[int], message: str) -> None:
        super().__init__(message)
        self.items = items


def _count(pending: list[int] | None, chunk: _Chunk) -> int:
    return len(chunk.positions) if pending is None else len(pending)


def _error_type(result: Mapping[str, Any]) -> str:
    error = result.get("error")
    return str(error.get("type", "")) if isinstance(error, dict) else ""


def _item_reason(result: Mapping[str, Any]) -> str:
    """The server's reason for one item, with its cause: what an operator needs to fix it."""
    status = result.get("status")
    error = result.get("error")
    if not isinstance(error, dict):
        return f"HTTP {status}: {error}"
    text = f"HTTP {status} {error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text
